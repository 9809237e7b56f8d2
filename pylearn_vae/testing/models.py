"""Small VAEs for tests: built in code and trained by hand for a few epochs."""

from pylearn_vae.costs.vae import VAECriterion
from pylearn_vae.models.mlp import MLP, RectifiedLinear
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae.conditional import BernoulliVector, DiagonalGaussian
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior

__all__ = ["tiny_vae", "train_by_hand"]


def tiny_vae(nhid=5, hidden=20, nvis=784):
    """A VAE with one ``hidden``-unit RectifiedLinear layer in its encoder and decoder."""

    def mlp(name, layer):
        return MLP(
            layer_name=name, layers=[RectifiedLinear(layer_name=layer, dim=hidden, irange=0.1)]
        )

    return VAE(
        nvis=nvis,
        nhid=nhid,
        prior=DiagonalGaussianPrior(),
        conditional=BernoulliVector(name="conditional", mlp=mlp("decoder", "h_d_1")),
        posterior=DiagonalGaussian(name="posterior", mlp=mlp("encoder", "h_e_1")),
    )


def train_by_hand(model, X, epochs=2, batch_size=50, learning_rate=0.02):
    """Plain SGD on ``VAECriterion(num_samples=1)`` over the rows of ``X``.

    Returns
    -------
    list of float
        The objective on all of ``X`` before training and after each epoch.
    """
    cost = VAECriterion(num_samples=1)
    objectives = [float(cost.expr(model, X))]
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            gradients, _ = cost.get_gradients(model, X[start : start + batch_size])
            for p, g in gradients.items():
                p.set_value(p.get_value() - learning_rate * g)
        objectives.append(float(cost.expr(model, X)))
    return objectives
