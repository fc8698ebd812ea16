# Which host gets which token, and which hub a link belongs to.
# TypeScript: sources/tokens.ts.
import urllib.parse

from .urls import host_port


TOKEN_HOSTS = {
    "hf": ("huggingface.co", "www.huggingface.co", "hf.co"),
    "civitai": ("civitai.com", "www.civitai.com"),
}
TOKEN_HINTS = {
    "hf": "Hugging Face refused the download: the model is gated or private. Accept its "
    "license on huggingface.co, then set a Hugging Face token (HF_TOKEN, or Settings -> Tokens).",
    "civitai": "Civitai needs an API token for this download: set CIVITAI_API_TOKEN or add it "
    "in Settings -> Tokens.",
}


def token_kind(url, token_hosts):
    parts = urllib.parse.urlsplit(url)
    host, port = host_port(parts)
    for kind in ("hf", "civitai"):
        extra = [str(h).lower() for h in (token_hosts or {}).get(kind) or []]
        if host in TOKEN_HOSTS[kind] or host in extra or "%s:%d" % (host, port) in extra:
            return kind
    return None


def listed_token_host(parts, kind, token_hosts):
    """True when the host is one the user listed for this token kind."""
    host, port = host_port(parts)
    extra = [str(h).lower() for h in (token_hosts or {}).get(kind) or []]
    return host in extra or "%s:%d" % (host, port) in extra


def source_of(url):
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host in TOKEN_HOSTS["hf"] or host.endswith(".huggingface.co"):
        return "huggingface"
    if host in TOKEN_HOSTS["civitai"] or host.endswith(".civitai.com"):
        return "civitai"
    return "direct"
