"""Numba's on-disk cache, keyed on the whole package's source.

Numba decides whether a cached kernel is fresh from the source of the file that defines it, but our kernels
inline code from other modules (an objective inlines base.py's logistic step, the loop inlines the window and
the noise sampler). After an edit to one of those modules alone, as when an editable install is updated, the
cached machine code would be stale. The locators registered here give every function defined in this package
a freshness stamp computed from all of the package's .py files, in the same cache directories as Numba's own.
"""
import hashlib
import os

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # w2v_nce/, above core/
_stamp = None


def source_stamp(directory):
    """sha256 over the relative names and the contents of the .py files under directory."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, directory).encode())
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.digest()


def package_source_stamp():
    """source_stamp of this package, computed once per process."""
    global _stamp
    if _stamp is None:
        _stamp = source_stamp(PACKAGE_DIR)
    return _stamp


def _in_package(py_file):
    return os.path.abspath(py_file).startswith(PACKAGE_DIR + os.sep)


def _package_locator(base):
    class PackageLocator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not _in_package(py_file):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return package_source_stamp()

    PackageLocator.__name__ = f"Package{base.__name__}"
    return PackageLocator


def register():
    """Put the package-wide locators first, in Numba's own order (user-provided dir, __pycache__, user-wide)."""
    try:
        from numba.core import caching
        bases = [caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator]
        impl = caching.CacheImpl
    except AttributeError:  # another Numba layout: keep its default (per-file) freshness check
        return
    if any(getattr(c, "_w2v_nce", False) for c in impl._locator_classes):
        return
    ours = [_package_locator(b) for b in bases]
    for c in ours:
        c._w2v_nce = True
    impl._locator_classes = ours + list(impl._locator_classes)
