"""Fuzz the file readers: YAML loading, model files (data files, .npz, pickles of
earlier versions) and the restricted unpickler, each input in its own forked subprocess.

Inputs are mutations of real seeds -- the shipped YAML files and a real saved model
(the tutorial VAE as ``train.py`` saves it, a data file; pickled as earlier versions
saved it; its parameters as ``.npz``) and a checkpoint-like data file -- and payloads
aimed at running code (each would create a marker file), crashing the process (crafted
NumPy dtypes, object arrays, truncated and corrupted files) and hanging it or
exhausting its memory (alias bombs, deep nesting, huge integers and sizes, a ZIP bomb).
A data file's description is mutated as an attacker would write it: class names off the
allow-list, dangling references and array indices, bad tags, dtypes and values.
Every input is loaded in a forked child with a 10 s alarm and a memory limit; the
parent checks, for each input, that

* no marker file was created (no code the file chose ran),
* the child was not killed by a signal (no crash; SIGALRM means a hang past 10 s),
* the child finished with "loaded" or "refused" (an exception with a message).

One line per input, then a summary; exit status 1 if any input failed::

    python benchmarks/fuzz.py --count 5000 [--seed 0] [--quiet]
    python benchmarks/fuzz.py --atheris --count 2000   # coverage-guided, where it installs

``tests/test_fuzz.py`` runs a fixed-seed corpus of 200 of these inputs.
"""

import argparse
import io
import json
import os
import pickle
import random
import resource
import signal
import sys
import tempfile
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy  # noqa: E402

from pylearn_vae.config import yaml_parse  # noqa: E402
from pylearn_vae.testing.crafted import (  # noqa: E402
    CraftedArray,
    CraftedDtype,
    data_file,
    npy_bytes,
)
from pylearn_vae.utils import datafile, serial  # noqa: E402

HANG_SECONDS = 10
MEMORY_LIMIT = 4 << 30
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")


# -- seeds --------------------------------------------------------------------------------


def yaml_seeds():
    """The shipped YAML files' texts."""
    folders = [os.path.join(REPO, "yaml_examples"), os.path.join(REPO, "yaml_examples", "sweeps")]
    paths = [TINY] + [
        os.path.join(folder, name)
        for folder in folders
        for name in sorted(os.listdir(folder))
        if name.endswith(".yaml")
    ]
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    return texts


def model_seeds():
    """A real model (the tutorial VAE) pickled as earlier versions saved it, at
    protocols 2 and 5; its parameters as .npz bytes; and the model and a checkpoint-like
    dict as the data files pylearn-vae saves."""
    train = yaml_parse.load_train_file(TINY)
    model = train.model
    pickles = [pickle.dumps(model, protocol=p) for p in (2, pickle.HIGHEST_PROTOCOL)]
    buffer = io.BytesIO()
    numpy.savez(buffer, **{p.name: numpy.asarray(p.get_value()) for p in model.get_params()})
    state = {
        "format": "pylearn_vae checkpoint", "version": 2, "finished": False,
        "params": [(p.name, numpy.asarray(p.get_value())) for p in model.get_params()],
        "rng": numpy.random.default_rng(0), "legacy": numpy.random.RandomState(0),
        "history": [0.5, float("nan"), numpy.float32(1.5)],
    }
    data_files = [datafile.to_bytes(model), datafile.to_bytes(state)]
    return pickles, buffer.getvalue(), data_files


# -- payloads ------------------------------------------------------------------------------


def yaml_payloads(marker):
    """YAML texts aimed at code execution, crashes and hangs."""
    touch = f"touch {marker}"
    code = [
        f"!obj:os.system {{command: '{touch}'}}",
        f"!obj:subprocess.call {{args: ['touch', '{marker}']}}",
        f"!!python/object/apply:os.system ['{touch}']",
        f"!obj:pylearn_vae.utils.serial.os.system {{command: '{touch}'}}",
        f"!obj:pylearn_vae.backend.numpy.f2py.__main__.main {{x: '{touch}'}}",
        "!obj:numpy.f2py.__main__.x {}",
        f"!obj:builtins.exec {{source: \"open('{marker}', 'w')\"}}",
        f"!obj:pylearn_vae.models.vae.VAE.__init__.__globals__ {{x: '{touch}'}}",
        "!import:os.system",
        f"!obj:pylearn_vae.utils.serial.load {{filepath: '{marker}.pkl', trusted: true}}",
        "!obj:pylearn_vae.config.yaml_parse.load {stream: '!obj:os.system {command: x}', "
        "trusted: true}",
        f"!pkl: '{marker}.pkl'",
        "!obj:pylearn_vae.utils.images.require {module_name: os, purpose: x}",
        "!obj:pylearn_vae.testing.browser.start {}",
        "!obj:pylearn_vae.sweep.trial.main {argv: []}",
    ]
    laughs = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 10)]
    hangs = [
        "\n".join(laughs),
        "[" * 100000 + "]" * 100000,
        "{a: " * 50000 + "1" + "}" * 50000,
        "a: &a [1, *a]",
        "x: " + "9" * 100000,
        "!obj:pylearn_vae.models.mlp.Linear {layer_name: h, irange: 0.1, dim: 1000000000000}",
        "!obj:pylearn_vae.models.mlp.MLP {nvis: 100000000, layers: [!obj:pylearn_vae.models"
        ".mlp.Linear {layer_name: h, irange: 0.1, dim: 100000000}]}",
    ]
    return code + hangs


def pickle_payloads(marker):
    """Pickles aimed at code execution and crashes."""
    touch = f"touch {marker}"
    raw = [
        b"cos\nsystem\n(V" + touch.encode() + b"\ntR.",
        b"cposix\nsystem\n(V" + touch.encode() + b"\ntR.",
        b"cbuiltins\nexec\n(Vopen('" + marker.encode() + b"', 'w')\ntR.",
        b"csubprocess\ncall\n((Vtouch\nV" + marker.encode() + b"\nltR.",
        b"cnumpy.f2py.__main__\nmain\n(tR.",
        b"cpylearn_vae.utils.serial\nos\n.",
        b"cnumpy\nload\n(V" + marker.encode() + b"\ntR.",
        b"cbuiltins\ngetattr\n(cbuiltins\nobject\nV__subclasses__\ntR.",
        b"ccopyreg\n_reconstructor\n(cos\n_wrap_close\ncbuiltins\nobject\nNtR.",
        b"c__builtin__\neval\n(V__import__('os').system('" + touch.encode() + b"')\ntR.",
        b"(" * 100000 + b".",
        b"]" + b"(]" * 100000 + b".",
        b"\x80\x04\x95" + b"\xff" * 8,
        b"",
    ]
    dtype_states = [
        ("f8", (3, "<", None, None, None, 8, 8, 0x3F)),
        ("V8", (3, "|", None, None, None, 8, 1, 0x3F)),
        ("O8", (3, "|", None, None, None, 8, 8, 0x3F)),
        ("f8", (3, "<", None, None, None, 1 << 40, 8, 0)),
        ("V16", (3, "|", None, ("a",), {"a": (numpy.dtype("O"), 0)}, 16, 8, 0x3F)),
    ]
    for spec, state in dtype_states:
        raw.append(_array_pickle(spec, state, b"\x41" * 16))
    return raw


def _array_pickle(spec, state, data):
    array = CraftedArray(CraftedDtype(spec, state), data)
    return pickle.dumps({"monitor": array}, protocol=2)


_DATA_NAMES = [
    ["os", "system"], ["posix", "system"], ["subprocess", "Popen"], ["builtins", "exec"],
    ["builtins", "eval"], ["numpy.f2py.__main__", "main"], ["numpy", "load"],
    ["copyreg", "_reconstructor"], ["pylearn_vae.utils.serial", "load"],
    ["pylearn_vae.utils.serial", "os"], ["pylearn_vae.scripts.train", "main"],
    ["pylearn_vae.models.vae", "VAE.__init__.__globals__"], ["pathlib", "Path"],
    ["pylearn_vae.models.mlp", "MLP"], ["pylearn_vae.models.vae", "VAE"],
]


def data_payloads(marker):
    """Data files aimed at code execution, crashes, hangs and memory blow-ups."""
    touch = f"touch {marker}"
    out = []
    for name in _DATA_NAMES:
        out.append(data_file({"object": name, "id": 0, "args": [touch], "state": {"dict": []}}))
        out.append(data_file({"class": name}))
    deep = {"tuple": []}
    for _ in range(200):  # past the reader's limit of 100, within JSON's own
        deep = {"tuple": [deep]}
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()  # 100 MB of zeros, deflated to about 100 KB
        numpy.lib.format.write_array_header_1_0(
            header, {"descr": "|u1", "fortran_order": False, "shape": (100_000_000,)}
        )
        archive.writestr("array_0.npy", header.getvalue() + bytes(100_000_000))
        text = json.dumps({"format": datafile.FORMAT, "version": 1, "root": {"array": 0}})
        archive.writestr("description.npy", npy_bytes(numpy.frombuffer(text.encode(), "u1")))
    object_array = {"array_0.npy": npy_bytes(numpy.array([{"a": 1}], dtype=object), True)}
    out += [
        data_file(deep),
        data_file(int("9" * 300)),
        data_file({"dtype": "O"}), data_file({"dtype": "[('a', 'O')]"}),
        data_file({"scalar": ["O", 1]}), data_file({"ref": 0}),
        data_file({"list": [{"ref": 0}], "id": 0}),
        data_file({"bit_generator": {"name": "PCG64", "state": {"dict": [], "id": 0},
                                     "seed_seq": None}}),
        data_file({"random_state": {"dict": [["state", {"dict": [], "id": 1}]], "id": 0}}),
        data_file({"array": 0}, members=object_array),
        data_file({"seed_sequence": {"entropy": int("9" * 300), "spawn_key": {"tuple": []},
                                     "pool_size": 2**30, "n_children_spawned": 0}}),
        bomb.getvalue(),
    ]
    return out


def mutate_data_file(rng, data, marker):
    """Change a data file's description as an attacker would (a class name, a tag, an
    id, a value), keeping it a valid archive; or mutate its bytes."""
    if rng.random() < 0.3:
        return mutate_bytes(rng, data, [data])
    with numpy.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = [archive[f"array_{n}"] for n in range(len(archive.files) - 1)]
        root = json.loads(bytes(archive["description"]))["root"]
    nodes = []
    _collect(root, nodes)
    for _ in range(rng.randint(1, 4)):
        parent, key = rng.choice(nodes) if nodes else (None, None)
        if parent is None:
            break
        parent[key] = _mutant(rng, parent[key], marker)
    return data_file(root, arrays)


def _collect(node, out):
    """``(container, key)`` of every value under ``node`` (JSON lists and dicts)."""
    items = enumerate(node) if isinstance(node, list) else node.items()
    for key, value in list(items):
        out.append((node, key))
        if isinstance(value, (list, dict)):
            _collect(value, out)


def _mutant(rng, value, marker):
    choice = rng.random()
    if choice < 0.25:
        return {"object": rng.choice(_DATA_NAMES), "id": rng.randrange(1000),
                "args": [f"touch {marker}"]}
    if choice < 0.35:
        return {"class": rng.choice(_DATA_NAMES)}
    if choice < 0.5:
        return {"ref": rng.randrange(-1, 50)}
    if choice < 0.6:
        return {"array": rng.randrange(-1, 40)}
    if choice < 0.7:
        return rng.choice([None, True, -1, 2**70, 1e308, "x" * 1000, [], {}, {"nope": 1}])
    if choice < 0.8:
        return {"dtype": rng.choice(["O", "V8", "<f4", "S3", "M8[s]", "f8,f8", "(2,)f4"])}
    if choice < 0.9 and isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        return {k: v for k, v in value.items() if k != key}  # a field missing
    return {"scalar": [rng.choice(["<f4", "<i8", "|b1", "O", "<c16"]), rng.choice(
        [1, 1.5, 2**70, "x", None])]}


# -- mutations ------------------------------------------------------------------------------


def mutate_bytes(rng, data, splices):
    """Flip, insert, delete, duplicate or splice bytes of ``data``."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        at = rng.randrange(len(data) + 1)
        if choice < 0.3 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.45:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice < 0.6:
            del data[at : at + rng.randint(1, 64)]
        elif choice < 0.75 and data:
            start = rng.randrange(len(data))
            data[at:at] = data[start : start + rng.randint(1, 256)]
        elif choice < 0.9:
            other = rng.choice(splices)
            start = rng.randrange(len(other) + 1)
            data[at:at] = other[start : start + rng.randint(1, 512)]
        else:
            del data[at:]
    return bytes(data)


def mutate_yaml(rng, text, payloads):
    """Replace a value or a tag of ``text`` by a payload, or mutate its characters."""
    lines = text.splitlines()
    choice = rng.random()
    if choice < 0.4 and lines:
        i = rng.randrange(len(lines))
        line = lines[i]
        if ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {rng.choice(payloads)},"
        else:
            lines.insert(i, rng.choice(payloads))
        return "\n".join(lines)
    if choice < 0.55:
        tags = [p for p in payloads if p.startswith("!obj:")]
        start = text.find("!obj:", rng.randrange(len(text) + 1))
        if start >= 0 and tags:
            end = text.find("{", start)
            return text[:start] + rng.choice(tags).split("{")[0] + text[end:]
    if choice < 0.65:
        return rng.choice(payloads)
    data = mutate_bytes(rng, text.encode(), [p.encode() for p in payloads])
    return data.decode("utf-8", "replace")


# -- the corpus -------------------------------------------------------------------------------


def corpus(count, seed, marker):
    """``count`` inputs ``(kind, bytes)``: kind is 'yaml', 'pkl', 'npz' or 'data' (a
    data file, loaded from a ``.data`` path as ``serial.load`` loads any saved model)."""
    rng = random.Random(seed)
    texts = yaml_seeds()
    pickles, npz, data_files = model_seeds()
    yaml_bad = yaml_payloads(marker)
    pickle_bad = pickle_payloads(marker)
    splices = pickles + pickle_bad
    fixed = [("yaml", p.encode()) for p in yaml_bad] + [("pkl", p) for p in pickle_bad]
    fixed += [("data", p) for p in data_payloads(marker)]
    for n in range(count):
        if n < len(fixed):
            yield fixed[n]
            continue
        choice = rng.random()
        if choice < 0.3:
            yield "yaml", mutate_yaml(rng, rng.choice(texts), yaml_bad).encode()
        elif choice < 0.55:
            yield "pkl", mutate_bytes(rng, rng.choice(pickles), splices)
        elif choice < 0.65:
            yield "npz", _mutate_npz(rng, npz)
        else:
            yield "data", mutate_data_file(rng, rng.choice(data_files), marker)


def _mutate_npz(rng, npz):
    if rng.random() < 0.5:
        return mutate_bytes(rng, npz, [npz])
    buffer = io.BytesIO()  # a valid archive holding one pickled object array
    with zipfile.ZipFile(buffer, "w") as archive:
        inner = io.BytesIO()
        numpy.save(inner, numpy.array([{"a": 1}], dtype=object), allow_pickle=True)
        archive.writestr("W.npy", inner.getvalue())
    return buffer.getvalue()


# -- running one input ------------------------------------------------------------------------


def load_input(kind, path):
    """Open ``path`` the way the scripts do; returns 'loaded' or raises."""
    if kind == "yaml":
        yaml_parse.load_train_file(path)  # as train.py does (sets PYLEARN2_TRAIN_*)
    else:
        serial.load(path, retry=False)
    return "loaded"


def run_one(kind, data, folder):
    """Load one input in a forked child; returns ``(verdict, detail)``.

    verdict: 'ok' (loaded or refused with a message), 'crash' (killed by a signal),
    'hang' (past HANG_SECONDS) or 'error' (the child could not report).
    """
    path = os.path.join(folder, f"input.{kind}")
    with open(path, "wb") as f:
        f.write(data)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: load, report one line, exit without cleanup
        os.close(read_end)
        status = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
            signal.alarm(HANG_SECONDS)
            try:
                result = load_input(kind, path)
            except BaseException as exc:  # noqa: BLE001 - reported, not hidden
                message = str(exc).strip().splitlines()
                result = f"refused {type(exc).__name__}: {(message or [''])[0][:150]}"
            os.write(write_end, result.encode("utf-8", "replace") + b"\n")
        except BaseException:  # noqa: BLE001
            status = 3
        finally:
            os._exit(status)
    os.close(write_end)
    deadline = time.monotonic() + HANG_SECONDS + 5
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            return "hang", "killed after the deadline"
        time.sleep(0.002)
    with os.fdopen(read_end, "rb") as f:
        report = f.read().decode("utf-8", "replace").strip()
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM:
            return "hang", f"still running after {HANG_SECONDS} s"
        return "crash", f"killed by signal {signal.Signals(sig).name}"
    if os.WEXITSTATUS(status) != 0 or not report:
        return "error", f"exit status {os.WEXITSTATUS(status)}"
    return "ok", report


def run_corpus(count, seed=0, out=print, folder=None):
    """Run ``count`` inputs; returns a dict of counts (``code``, ``crash``, ``hang``,
    ``error``, ``loaded``, ``refused``). ``out`` gets one line per input."""
    own = folder is None
    folder = tempfile.mkdtemp(prefix="pylearn_vae_fuzz_") if own else folder
    marker = os.path.join(folder, "MARKER")
    counts = dict.fromkeys(("code", "crash", "hang", "error", "loaded", "refused"), 0)
    for n, (kind, data) in enumerate(corpus(count, seed, marker)):
        verdict, detail = run_one(kind, data, folder)
        for path in (marker, marker + ".pkl"):
            if os.path.exists(path):
                verdict, detail = "code", f"the marker {os.path.basename(path)} was created"
                os.remove(path)
        if verdict == "ok":
            verdict = "loaded" if detail == "loaded" else "refused"
        counts[verdict] += 1
        detail = detail.removeprefix("refused ").removeprefix("loaded")
        out(f"{n:5d} {kind:4s} {len(data):8d} B  {verdict:7s} {detail}".rstrip())
    if own:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)
    return counts


def _atheris(count, seed):
    """Coverage-guided fuzzing of the three readers with atheris, in this process."""
    import atheris

    folder = tempfile.mkdtemp(prefix="pylearn_vae_atheris_")

    def one(data):
        kind = ("yaml", "pkl", "npz", "data")[data[0] % 4] if data else "pkl"
        verdict, detail = run_one(kind, data[1:], folder)
        if verdict not in ("ok",) or os.path.exists(os.path.join(folder, "MARKER")):
            raise RuntimeError(f"{kind}: {verdict}: {detail}")

    atheris.Setup([sys.argv[0], f"-runs={count}", f"-seed={seed + 1}"], one)
    atheris.Fuzz()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="inputs to run")
    parser.add_argument("--seed", type=int, default=0, help="the corpus's random seed")
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided (atheris)")
    args = parser.parse_args(argv)
    if args.atheris:
        _atheris(args.count, args.seed)
        return 0
    start = time.perf_counter()
    counts = run_corpus(args.count, args.seed, out=(lambda line: None) if args.quiet else print)
    bad = counts["code"] + counts["crash"] + counts["hang"] + counts["error"]
    print(
        f"{args.count} inputs in {time.perf_counter() - start:.0f} s: {counts['code']} code "
        f"runs, {counts['crash']} crashes, {counts['hang']} hangs, {counts['error']} errors; "
        f"{counts['loaded']} loaded, {counts['refused']} refused"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
