"""The VAE demo page: a static web page that runs a trained VAE's decoder and encoder.

``vae_demo.py MODEL.pkl -o demo/`` writes ``demo/index.html``, one self-contained
file: the model's weights are embedded (base64 float32) and plain JavaScript runs the
encoder and decoder in the browser; no server code, no build step, no CDN. On the page:

- sliders over the latent units (all of a 2-D model, otherwise the ``--sliders`` most
  active: largest mean KL over the test split, the others at the prior mean) redraw
  the decoded digit E[x|z]; a latent plane over the first two shows the test digits'
  posterior means and takes clicks;
- a canvas to draw a digit with the mouse: it is downsampled to 28x28 as MNIST was
  (bounding box scaled into 20x20, centre of mass at the centre), encoded, and its
  reconstruction and posterior means appear;
- buttons for a prior sample and for an interpolation between two drawn or chosen
  test digits.

The page exposes ``window.vaeDemo`` (``setLatent(z)``, ``decode(z)``,
``encode(pixels)``, ``decodedPixels()``, ``lastEncoderInput()``, ...) for tests.

The JavaScript runs the layers of the dense MLPs (Linear, RectifiedLinear, Tanh,
Sigmoid, Softplus, and the CompositeLayer of the DiagonalGaussian posterior's
``(mu, log_sigma)`` head), a BernoulliVector decoder and a DiagonalGaussianPrior. A
model with anything else is refused with exit status 2 and the name of the part.

Command line::

    python bin/vae_demo.py MODEL.pkl -o demo/ [--sliders 8] [--serve [--port 8000]]
"""

import base64
import functools
import http.server
import json
import os
import sys
from pathlib import Path

import numpy

from pylearn_vae.scripts import _cli, _commands, _latent
from pylearn_vae.utils import serial

__all__ = ["UnsupportedModelError", "export_model", "main", "page_html", "serve", "write_page"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -o demo/ --serve",
]

TEMPLATE = Path(__file__).with_name("demo_page.html")
PLACEHOLDER = "/*VAE_DATA*/"


class UnsupportedModelError(Exception):
    """The model has a part the page's JavaScript does not implement."""


def _layer_types():
    from pylearn_vae.models import mlp

    return {
        mlp.Linear: "Linear",
        mlp.RectifiedLinear: "RectifiedLinear",
        mlp.Tanh: "Tanh",
        mlp.Sigmoid: "Sigmoid",
        mlp.Softplus: "Softplus",
    }


class _Weights:
    """Collects arrays into one float32 buffer; each is referred to by its offset."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, array):
        array = numpy.ascontiguousarray(array, dtype="<f4")
        offset = self.size
        self.parts.append(array.reshape(-1))
        self.size += array.size
        return offset

    def base64(self):
        return base64.b64encode(numpy.concatenate(self.parts).tobytes()).decode("ascii")


def _describe(layer):
    return f"{type(layer).__module__}.{type(layer).__name__}"


def _export_dense(layer, where, weights):
    from pylearn_vae.backend import to_host

    kind = _layer_types().get(type(layer))
    if kind is None:
        raise UnsupportedModelError(
            f"{where} layer {layer.layer_name!r} is a {_describe(layer)}, which the demo page "
            f"cannot run; it runs {', '.join(_layer_types().values())} (and the posterior's "
            "CompositeLayer head)"
        )
    if getattr(layer, "requires_reformat", False):
        raise UnsupportedModelError(
            f"{where} layer {layer.layer_name!r} takes a {layer.input_space} input, which the "
            "demo page cannot reformat: it runs dense MLPs on vectors"
        )
    W = to_host(layer.W.get_value())
    entry = {
        "type": kind,
        "name": layer.layer_name,
        "W": [weights.add(W), int(W.shape[0]), int(W.shape[1])],
        "b": [weights.add(to_host(layer.b.get_value())), int(W.shape[1])]
        if layer.use_bias
        else None,
    }
    if kind == "RectifiedLinear":
        entry["leftSlope"] = float(layer.left_slope)
    return entry


def _export_mlp(mlp, where, weights, composite_last=False):
    from pylearn_vae.models.mlp import CompositeLayer

    layers = []
    for position, layer in enumerate(mlp.layers):
        if type(layer) is CompositeLayer:
            if not composite_last or position != len(mlp.layers) - 1:
                raise UnsupportedModelError(
                    f"{where} layer {layer.layer_name!r} is a CompositeLayer in the middle of "
                    "the MLP; the demo page runs one only as the posterior's last layer"
                )
            if layer.inputs_to_layers is not None:
                raise UnsupportedModelError(
                    f"{where} layer {layer.layer_name!r} routes inputs (inputs_to_layers), "
                    "which the demo page cannot run"
                )
            branches = [
                _export_dense(sub, f"{where} ({layer.layer_name})", weights)
                for sub in layer.layers
            ]
            layers.append({"type": "Composite", "name": layer.layer_name, "branches": branches})
        else:
            layers.append(_export_dense(layer, where, weights))
    return layers


def check_supported(model):
    """Raise :class:`UnsupportedModelError` unless the page can run ``model``'s parts."""
    from pylearn_vae.models.vae.conditional import BernoulliVector, DiagonalGaussian
    from pylearn_vae.models.vae.prior import DiagonalGaussianPrior

    for part, expected in (
        (model.conditional, BernoulliVector),
        (model.posterior, DiagonalGaussian),
        (model.prior, DiagonalGaussianPrior),
    ):
        if type(part) is not expected:
            raise UnsupportedModelError(
                f"the model's {getattr(part, 'name', 'prior')} is a {_describe(part)}; the demo "
                "page runs a BernoulliVector conditional, a DiagonalGaussian posterior and a "
                "DiagonalGaussianPrior"
            )


def export_model(
    model,
    X=None,
    labels=None,
    num_sliders=8,
    num_examples=20,
    num_points=500,
    title="VAE",
    args=None,
):
    """Everything the page needs, as a JSON-ready dict.

    Parameters
    ----------
    model : VAE
    X : array, shape (n, nvis), optional
        Test data: chooses the most active units (when nhid > 2), gives the example
        digits (the first ``num_examples``) and the points on the latent plane.
    labels : int array, shape (n,), optional
    num_sliders : int
        Sliders over the most active units when nhid > 2 (all units otherwise).
    args : argparse.Namespace, optional
        The command line (``--allow-module``, ``--trust``), for loading the training
        set the model recorded, to find its images' shape.
    """
    check_supported(model)
    weights = _Weights()
    data = {
        "title": title,
        "nvis": int(model.nvis),
        "nhid": int(model.nhid),
        "shape": list(_image_shape(model, args)),
        "decoder": _export_mlp(model.conditional.mlp, "decoder", weights),
        "encoder": _export_mlp(model.posterior.mlp, "encoder", weights, composite_last=True),
    }
    mean, std = _latent.prior_mean_std(model)
    data["prior"] = {"mean": mean.tolist(), "std": std.tolist()}
    if X is not None and model.nhid > 2:
        units, _ = _latent.most_active_units(model, X, num_sliders)
        data["sliderUnits"] = [int(u) for u in units]
    else:
        data["sliderUnits"] = list(range(min(model.nhid, max(num_sliders, 2))))
    data["weights"] = weights.base64()
    if X is None:
        X = numpy.zeros((0, model.nvis))
    shown = X[:num_examples]
    data["examples"] = {
        "count": len(shown),
        "indices": list(range(len(shown))),
        "labels": None if labels is None else [int(v) for v in labels[: len(shown)]],
        "pixels": base64.b64encode(
            numpy.round(numpy.clip(shown, 0, 1) * 255).astype("uint8").tobytes()
        ).decode("ascii"),
    }
    plane = X[:num_points]
    means = _latent.posterior_means(model, plane) if len(plane) else numpy.zeros((0, model.nhid))
    units = data["sliderUnits"] + [0, 0]
    data["points"] = {
        "x": numpy.round(means[:, units[0]], 4).tolist(),
        "y": numpy.round(means[:, units[1]], 4).tolist(),
        "labels": None if labels is None else [int(v) for v in labels[: len(plane)]],
    }
    return data


def _image_shape(model, args):
    from pylearn_vae.utils import images

    return images.image_shape(model.nvis, _cli.dataset_view_shape(model, None, args))


def page_html(data):
    """The page: the template with ``data`` as its embedded JSON."""
    text = json.dumps(data, separators=(",", ":"))
    if "</" in text:  # nothing in the data may end the <script> element early
        text = text.replace("</", "<\\/")
    return TEMPLATE.read_text(encoding="utf-8").replace(PLACEHOLDER, text)


def write_page(data, folder):
    """Write ``folder/index.html``; returns its path."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise _cli.CliError(f"-o {folder} is a file: give a folder for the page, e.g. demo/")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cli.CliError(f"cannot create the folder {folder}: {exc.strerror}") from exc
    path = folder / "index.html"
    with serial.open_output(path, encoding="utf-8") as f:
        f.write(page_html(data))
    return path


def serve(folder, port=8000, announce=print):
    """Serve ``folder`` on ``http://127.0.0.1:port/`` until interrupted (0: any free port)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.fspath(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        announce(
            f"serving {folder} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_demo.py"), description=__doc__.splitlines()[0], examples=EXAMPLES
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument("-o", "--out", default="demo", help="folder of the page (default demo/)")
    parser.add_argument(
        "--sliders", type=_cli.positive_int, default=8, help="sliders when nhid > 2 (default 8)"
    )
    parser.add_argument(
        "--examples",
        type=_cli.positive_int,
        default=20,
        help="test digits offered on the page (default 20)",
    )
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument("--which-set", default="test", help="split (default test)")
    parser.add_argument("--serve", action="store_true", help="serve the folder on 127.0.0.1")
    parser.add_argument(
        "--port",
        type=_cli.nonnegative_int,
        default=8000,
        help="port for --serve (0: any free) (default: %(default)s)",
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("vae_demo.py"), args.debug):
        if args.port > 65535:
            raise _cli.CliError(f"--port {args.port}: a port is at most 65535")
        model = _cli.load_vae(args.model, args)
        try:
            check_supported(model)
            dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
            X = _cli.design_matrix(dataset, model)
            _latent.warn_if_no_active_unit(model, X, _commands.prog("vae_demo.py"))
            data = export_model(
                model,
                X,
                _latent.dataset_labels(dataset, len(X)),
                num_sliders=args.sliders,
                num_examples=args.examples,
                title=os.path.basename(args.model),
                args=args,
            )
        except UnsupportedModelError as exc:
            print(f"vae_demo.py: error: {args.model}: {exc}", file=sys.stderr)
            return 2
        path = write_page(data, args.out)
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.1f} MB; open it in a browser, no server needed)")
    if args.serve:
        sys.stdout.flush()
        with _cli.clear_errors(_commands.prog("vae_demo.py"), args.debug):
            serve(args.out, args.port, announce=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
