"""Small random datasets for tests."""

from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix

__all__ = ["random_dense_design_matrix"]


def random_dense_design_matrix(rng, num_examples, dim, num_classes):
    """A :class:`DenseDesignMatrix` of standard normal rows and random integer labels.

    Parameters
    ----------
    rng : numpy.random.RandomState
    num_examples, dim : int
        ``X`` has shape ``(num_examples, dim)``, drawn as ``rng.randn``.
    num_classes : int or None
        When given, ``y = rng.randint(0, num_classes, (num_examples, 1))`` with
        ``y_labels=num_classes``; otherwise no targets.
    """
    X = rng.randn(num_examples, dim)
    if num_classes:
        Y = rng.randint(0, num_classes, (num_examples, 1))
        return DenseDesignMatrix(X=X, y=Y, y_labels=num_classes)
    return DenseDesignMatrix(X=X)
