"""The tiny tutorial recipe the resume tests train, and hooks that stop it on cue.

The hooks that count batches keep their count in a checkpoint (``_state_fields``), so
the resumed run, built from the same YAML file, does not stop again at the same batch.
"""

import io
import os
import signal
import sys
import time

import numpy as np

from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils import datafile, serial
from pylearn_vae.utils.checkpoint import Stateful

# The tutorial's recipe (momentum with MomentumAdjustor, ExponentialDecay, the best model
# saved by MonitorBasedSaveBest, a save every epoch) on 200 dynamically binarized digits:
# 4 batches of 50 per epoch, 5 latent units, 20 hidden units each side.
RECIPE = """
!obj:pylearn_vae.train.Train {{
    dataset: &train !obj:pylearn_vae.datasets.mnist10k.MNIST10k {{
        which_set: 'train', stop: 200, binarize: 'dynamic'}},
    model: !obj:pylearn_vae.models.vae.VAE {{
        nvis: 784, nhid: 5,
        prior: !obj:pylearn_vae.models.vae.prior.DiagonalGaussianPrior {{}},
        conditional: !obj:pylearn_vae.models.vae.conditional.BernoulliVector {{
            name: 'conditional',
            mlp: !obj:pylearn_vae.models.mlp.MLP {{layer_name: "decoder", layers: [
                !obj:pylearn_vae.models.mlp.RectifiedLinear {{
                    layer_name: 'h_d_1', dim: {hidden}, irange: 0.1}}]}},
        }},
        posterior: !obj:pylearn_vae.models.vae.conditional.DiagonalGaussian {{
            name: 'posterior',
            mlp: !obj:pylearn_vae.models.mlp.MLP {{layer_name: "encoder", layers: [
                !obj:pylearn_vae.models.mlp.RectifiedLinear {{
                    layer_name: 'h_e_1', dim: 20, irange: 0.1}}]}},
        }},
    }},
    algorithm: !obj:pylearn_vae.training_algorithms.sgd.SGD {{
        batch_size: 50,
        learning_rate: 1e-2,
        learning_rule: {rule},
        monitoring_dataset: {{
            'train': *train,
            'valid': !obj:pylearn_vae.datasets.mnist10k.MNIST10k {{
                which_set: 'valid', stop: 100}},
        }},
        cost: !obj:pylearn_vae.costs.vae.VAECriterion {{num_samples: 1}},
        termination_criterion: {criterion},
        update_callbacks: [
            {schedule},
            !obj:resume_helpers.SignalAtBatch {{batch: {stop_batch}, signum: {signum}}},
            !obj:resume_helpers.WaitForSignalAt {{batch: {wait_batch}}},
        ],
    }},
    extensions: [
        !obj:pylearn_vae.train_extensions.best_params.MonitorBasedSaveBest {{
            channel_name: 'valid_objective',
            save_path: "{dir}/m_best.pkl",
            store_best_model: True,
        }},
        {adjustor},
        !obj:resume_helpers.SignalAtEpoch {{epoch: {stop_epoch}}},
        !obj:resume_helpers.KillDuringSave {{}},
    ],
    save_path: "{dir}/m.pkl",
    save_freq: 1,
}}
"""

MOMENTUM = "!obj:pylearn_vae.training_algorithms.learning_rule.Momentum {init_momentum: 0.05}"
EPOCHS = "!obj:pylearn_vae.termination_criteria.EpochCounter {max_epochs: %d}"
ADJUSTOR = (
    "!obj:pylearn_vae.training_algorithms.learning_rule.MomentumAdjustor "
    "{final_momentum: .9, start: 1, saturate: 3}"
)
NO_EXTENSION = "!obj:pylearn_vae.train_extensions.TrainExtension {}"
DECAY = (
    "!obj:pylearn_vae.training_algorithms.sgd.ExponentialDecay {decay_factor: 1.01, "
    "min_lr: 0.0001}"
)
NEVER = 10**9


def recipe(folder, epochs=4, stop_batch=NEVER, stop_epoch=NEVER, wait_batch=NEVER, **parts):
    """The YAML text of :data:`RECIPE` saving into ``folder``.

    ``rule``, ``adjustor``, ``criterion``, ``schedule``, ``signum`` and ``hidden`` may
    replace the tutorial's parts (a rule without momentum needs
    ``adjustor=NO_EXTENSION``). A run is stopped by ``signum`` after batch
    ``stop_batch`` or after the monitoring of epoch ``stop_epoch``, or waits for a
    signal after batch ``wait_batch``.
    """
    values = dict(
        rule=MOMENTUM,
        adjustor=ADJUSTOR,
        criterion=EPOCHS % epochs,
        schedule=DECAY,
        signum="SIGINT",
        hidden=20,
    )
    values.update(parts)
    return RECIPE.format(
        dir=folder,
        stop_batch=stop_batch,
        stop_epoch=stop_epoch,
        wait_batch=wait_batch,
        **values,
    )


def channel_histories(train):
    """``{channel: values}`` of a run, without the timing channels (wall-clock times)."""
    return {
        name: list(channel.val_record)
        for name, channel in train.model.monitor.channels.items()
        if "seconds" not in name
    }


def param_values(model):
    return [(p.name, p.get_value()) for p in model.get_params()]


def same_params(a, b):
    """Whether two ``param_values`` lists are equal, name by name, bit for bit."""
    return len(a) == len(b) and all(
        na == nb and np.array_equal(va, vb) for (na, va), (nb, vb) in zip(a, b, strict=True)
    )


def saved_params(path):
    return param_values(serial.load(str(path)))


class SignalAtEpoch(TrainExtension):
    """Send ``SIGINT`` to this process once epoch ``epoch`` has been monitored."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_monitor(self, model, dataset, algorithm):
        if model.monitor.get_epochs_seen() == self.epoch:
            signal.raise_signal(signal.SIGINT)


class SignalAtBatch(Stateful):
    """Send ``signum`` to this process after batch ``batch`` (counted over the run).

    The handler :meth:`pylearn_vae.train.Train.main_loop` installs runs before the
    algorithm's next check, so the run stops exactly at this batch boundary.
    """

    _state_fields = ("_count",)

    def __init__(self, batch, signum="SIGINT"):
        self.batch = batch
        self.signum = getattr(signal, signum)
        self._count = 0

    def __call__(self, algorithm):
        self._count += 1
        if self._count == self.batch:
            signal.raise_signal(self.signum)


class WaitForSignalAt(Stateful):
    """After batch ``batch``, print ``READY`` and wait (up to 60 s) for a stop signal.

    Only when the environment variable ``RESUME_TEST_WAIT`` is set, so a reference run
    of the same YAML file goes straight through. With ``RESUME_TEST_WAIT=twice`` it then
    prints ``AGAIN`` and waits for the second signal, which stops the run at once.
    """

    _state_fields = ("_count",)

    def __init__(self, batch):
        self.batch = batch
        self._count = 0

    def __call__(self, algorithm):
        self._count += 1
        wait = os.environ.get("RESUME_TEST_WAIT")
        if self._count != self.batch or not wait:
            return
        _say("READY")
        deadline = time.monotonic() + 60
        while not algorithm.stop_requested() and time.monotonic() < deadline:
            time.sleep(0.01)
        if wait == "twice":
            _say("AGAIN")
            while time.monotonic() < deadline:
                time.sleep(0.01)


def _say(word):
    print(word, flush=True)
    sys.stdout.flush()


class KillDuringSave(TrainExtension):
    """With ``RESUME_TEST_KILL_SAVE="<epoch>,<n>"``: SIGKILL this process in the middle
    of the ``n``-th file written from the periodic save of epoch ``<epoch>`` on (1:
    the model, 2: the checkpoint after it, 3: the next one), half of it on disk."""

    def on_save(self, model, dataset, algorithm):
        setting = os.environ.get("RESUME_TEST_KILL_SAVE")
        if not setting:
            return
        epoch, nth = (int(x) for x in setting.split(","))
        if model.monitor.get_epochs_seen() != epoch:
            return
        real_write, calls = datafile.write, []

        def write(f, obj, *args, **kwargs):
            calls.append(obj)
            if len(calls) < nth:
                return real_write(f, obj, *args, **kwargs)
            buffer = io.BytesIO()
            real_write(buffer, obj, *args, **kwargs)
            data = buffer.getvalue()
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        datafile.write = write
