"""The binding against the installed header: every VAE_API function is
declared with the header's types, every status is checked, every constant
has the header's value. The header is $VAE_HEADER (test.sh points it at the
installed prefix), else the source tree's include/vae.h."""
import ctypes
import os
import re
import unittest

import libvae
from libvae import _capi

HEADER = os.environ.get("VAE_HEADER") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "include", "vae.h")

SCALARS = {
    "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t,
    "float": ctypes.c_float, "double": ctypes.c_double,
}
HANDLES = {"vae_graph": _capi.GRAPH, "vae_model": _capi.MODEL,
           "vae_adam": _capi.ADAM}


class CType:
    """One C type of a declaration: base name, pointer depth, const-ness."""

    def __init__(self, text):
        self.text = " ".join(text.split())
        self.const = self.text.startswith("const ")
        self.stars = self.text.count("*")
        self.base = self.text.replace("const ", "").replace("*", "").strip()

    def ctypes_type(self):
        """The ctypes type with this ABI, as an FFI user should declare it."""
        if self.base in HANDLES:
            return {1: ctypes.c_void_p,
                    2: ctypes.POINTER(ctypes.c_void_p)}[self.stars]
        if self.base == "char" and self.stars == 1:
            return ctypes.c_char_p
        if self.base == "void":
            return {0: None, 1: ctypes.c_void_p}[self.stars]
        scalar = SCALARS[self.base]
        return {0: scalar, 1: ctypes.POINTER(scalar)}[self.stars]


def read_header():
    with open(HEADER, encoding="utf-8") as f:
        return f.read()


def declarations(text):
    """{name: (return CType, [(param CType, param name)])} of every VAE_API
    function."""
    code = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    code = "\n".join(line for line in code.splitlines()
                     if not line.lstrip().startswith("#"))
    decls = {}
    for ret, name, params in re.findall(
            r"\bVAE_API\s+([\w\s*]*?)\b(vae_\w+)\s*\(([^)]*)\)\s*;", code):
        args = []
        if params.strip() != "void":
            for p in params.split(","):
                m = re.fullmatch(r"(.*?)\b(\w+)", p.strip(), flags=re.S)
                args.append((CType(m.group(1)), m.group(2)))
        decls[name] = (CType(ret), args)
    return decls


class HeaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = read_header()
        cls.decls = declarations(cls.text)

    def test_parser_saw_every_declaration(self):
        # Each declaration starts a line with VAE_API; a parser that missed
        # one would let the coverage check below pass vacuously.
        lines = re.findall(r"^VAE_API\b", self.text, flags=re.M)
        self.assertGreater(len(lines), 0)
        self.assertEqual(len(self.decls), len(lines))

    def test_every_function_is_bound(self):
        self.assertEqual(sorted(set(self.decls) - set(_capi.SIGNATURES)), [],
                         "functions of vae.h without a binding")
        self.assertEqual(sorted(set(_capi.SIGNATURES) - set(self.decls)), [],
                         "bindings of functions vae.h does not declare")

    def test_types_match_the_header(self):
        for name, (ret, args) in self.decls.items():
            with self.subTest(name=name):
                fn = getattr(libvae.lib, name)
                self.assertIs(fn.restype, ret.ctypes_type())
                self.assertEqual(
                    tuple(fn.argtypes),
                    tuple(t.ctypes_type() for t, _ in args))

    def test_every_status_is_checked(self):
        for name, (ret, args) in self.decls.items():
            source = _capi.SIGNATURES[name][2]
            checked = getattr(getattr(libvae.lib, name), "errcheck", None)
            with self.subTest(name=name):
                if ret.stars or ret.base == "void" or \
                        name == "vae_version_number":
                    self.assertIsNone(source, "not a status")
                    self.assertIsNone(checked)
                    continue
                self.assertIsNotNone(source, "a status needs an errcheck")
                self.assertIsNotNone(checked)
                self.check_message_source(name, source, args)

    def check_message_source(self, name, source, args):
        """The message comes from where the library put it."""
        names = [n for _, n in args]
        if names[-2:] == ["err", "errlen"]:
            self.assertEqual(source, _capi.ERRBUF)
            return
        self.assertNotEqual(source, _capi.ERRBUF)
        if source == _capi.STATUS:
            return
        first = args[0][0]
        self.assertEqual(HANDLES.get(first.base), source,
                         "message from a handle the call does not take")
        # A const handle cannot record a message; the graph's status is
        # the one exception, since it reports the recorded error itself.
        if name != "vae_graph_status":
            self.assertFalse(first.const)

    def test_constants_match_the_header(self):
        defines = dict(re.findall(r"^#define VAE_(\w+)\s+(-?\d+)\b",
                                  self.text, flags=re.M))
        versions = {k: int(defines.pop(k)) for k in list(defines)
                    if k.startswith("VERSION_")}
        self.assertGreater(len(defines), 20)
        for name, value in defines.items():
            with self.subTest(name=name):
                self.assertEqual(getattr(libvae, name), int(value))
        shift = re.search(r"#define VAE_METADATA_MAX \(\(size_t\)1 << (\d+)\)",
                          self.text)
        self.assertEqual(libvae.METADATA_MAX, 1 << int(shift.group(1)))
        self.assertEqual(libvae.ABI_MAJOR, versions["VERSION_MAJOR"])
        # The header and the library come from the same install.
        self.assertEqual(libvae.version_number(),
                         versions["VERSION_MAJOR"] * 10000 +
                         versions["VERSION_MINOR"] * 100 +
                         versions["VERSION_PATCH"])
        self.assertEqual(libvae.version(), "{}.{}.{}".format(
            versions["VERSION_MAJOR"], versions["VERSION_MINOR"],
            versions["VERSION_PATCH"]))

    def test_public_names_exist(self):
        for name in libvae.__all__:
            self.assertTrue(hasattr(libvae, name), name)

    def test_status_names(self):
        self.assertEqual(libvae.status_string(libvae.OK), "ok")
        in_header = set(re.findall(r"^#define VAE_(ERR_\w+)", self.text,
                                   flags=re.M))
        for name in dir(libvae):
            if not name.startswith("ERR_"):
                continue
            value = getattr(libvae, name)
            with self.subTest(name=name):
                self.assertEqual(libvae.VaeError(value, "m").name, name)
                self.assertIn(f"[VAE_{name}]",
                              str(libvae.VaeError(value, "m", "vae_f")))
                self.assertIn(name, in_header)
                self.assertNotEqual(libvae.status_string(value),
                                    "unknown status")

    def test_unknown_status_still_reads_well(self):
        err = libvae.VaeError(-42, "something new", "vae_model_elbo")
        self.assertEqual(err.name, "unknown status")
        self.assertEqual(str(err),
                         "vae_model_elbo: something new [status -42]")


if __name__ == "__main__":
    unittest.main()
