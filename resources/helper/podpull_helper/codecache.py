# Compiled code of this package, kept beside the zipapp. Python never reads or
# writes __pycache__ inside a zip, so every `python3 -I -S helper.pyz <command>`
# compiled all of the package from source again: about half the CPU of a short
# command (status, watch, start), and start-up time before a download's first
# byte. This keeps the code objects of one archive in one file next to it,
# `<archive>.<cache tag>.code` (one per Python version), and uses an entry only
# for exactly the source it was compiled from.
import hashlib
import marshal
import os
import sys
import zipimport
from importlib.machinery import ModuleSpec
from importlib.util import MAGIC_NUMBER

PACKAGE = __name__.partition(".")[0]
FORMAT = b"podpull-code-1\n"


def use_code_cache():
    """From now on the package's modules load from the cache when they come
    from a zip archive; does nothing when they do not (the source folder, whose
    __pycache__ Python keeps itself)."""
    loader = getattr(sys.modules[PACKAGE], "__loader__", None)
    if not isinstance(loader, zipimport.zipimporter) or not sys.implementation.cache_tag:
        return None
    cache = CodeCache(loader.archive)
    sys.meta_path.insert(0, cache)
    return cache


class CodeCache(object):
    """A meta-path finder and loader for the package's modules in `archive`:
    their code comes from the cache, or is compiled and kept. New code is
    written once, when the process exits normally. (zipimport's own find_spec
    compiles the module just to name its file, so the spec is made here.)"""

    def __init__(self, archive):
        self.archive = archive
        self.path = "%s.%s.code" % (archive, sys.implementation.cache_tag)
        self.codes = read_cache(self.path)
        self.folders = {}
        self.saving = False

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE + "."):
            return None
        folder = os.path.join(self.archive, *fullname.split(".")[:-1])
        zi = self.folders.get(folder)
        try:
            if zi is None:
                zi = self.folders[folder] = zipimport.zipimporter(folder)
            is_pkg = zi.is_package(fullname)
        except zipimport.ZipImportError:
            return None  # not in the archive: the usual finders decide
        base = os.path.join(folder, fullname.rpartition(".")[2])
        origin = os.path.join(base, "__init__.py") if is_pkg else base + ".py"
        loader = CachedLoader(self, zi, origin)
        spec = ModuleSpec(fullname, loader, origin=origin, is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = [base]
        return spec

    def code(self, fullname, source, filename):
        digest = hashlib.sha256(source).digest()
        kept = self.codes.get(fullname)
        if kept is not None and kept[0] == digest:
            return kept[1]
        code = compile(source, filename, "exec", dont_inherit=True)
        self.codes[fullname] = (digest, code)
        if not self.saving:
            self.saving = True
            import atexit

            atexit.register(self.save)
        return code

    def save(self):
        """temp + rename, 0600 from its creation; a failure only means compiling
        again next time (a read-only folder, a full disk)."""
        tmp = "%s.tmp-%d-%s" % (self.path, os.getpid(), os.urandom(4).hex())
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(FORMAT + MAGIC_NUMBER)
                marshal.dump(self.codes, f)
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            try:
                os.unlink(tmp)
            except OSError:
                pass


class CachedLoader(object):
    """Runs a module of the archive from cached code. Source still comes from
    the archive (tracebacks show the lines)."""

    def __init__(self, cache, zip_loader, filename):
        self.cache = cache
        self.zip = zip_loader
        self.filename = filename

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__spec__.name
        source = self.zip.get_source(name).encode("utf-8")
        exec(self.cache.code(name, source, self.filename), module.__dict__)

    def get_source(self, fullname):
        return self.zip.get_source(fullname)

    def get_filename(self, fullname):
        return self.filename

    def is_package(self, fullname):
        return self.zip.is_package(fullname)


def read_cache(path):
    """The cached code objects by module name; {} for a missing, foreign (another
    Python, another user, writable by others) or damaged file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        # Code that runs as us must come from us alone.
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return {}
        with os.fdopen(fd, "rb") as f:
            fd = None
            if f.read(len(FORMAT) + len(MAGIC_NUMBER)) != FORMAT + MAGIC_NUMBER:
                return {}
            codes = marshal.load(f)
        return codes if isinstance(codes, dict) else {}
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    finally:
        if fd is not None:
            os.close(fd)
