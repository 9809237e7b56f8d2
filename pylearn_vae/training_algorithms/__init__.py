"""Training algorithms: what :class:`pylearn_vae.train.Train` runs each epoch.

``training_algorithm`` holds the protocol (``setup``, ``train``, ``continue_learning``),
``sgd`` the stochastic gradient descent algorithm and its learning-rate callbacks,
``learning_rule`` the update rules (momentum, AdaDelta, RMSProp, AdaGrad, Adam).
"""
