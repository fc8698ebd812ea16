# Entry point of the helper zipapp (podpull_helper.pyz, built by
# scripts/build-helper.mjs) and of this folder run as a program
# (`python3 -I -S resources/helper <command>`): either way this file's folder,
# or the archive, is first on sys.path, so the package below is the one imported.
import sys

from podpull_helper.codecache import use_code_cache


def run():
    # Before the rest of the package is imported: from a zip it then loads compiled.
    use_code_cache()
    from podpull_helper.cli import main

    return main(sys.argv)


if __name__ == "__main__":
    sys.exit(run())
