"""Models and data of the pruning benchmarks (imported by the bench/pruning_*.py scripts).

Three scikit-learn MLPs (satimage, dna, digits) and three small PyTorch CNNs on digits: a
LeNet-5-style network, a ResNet-style network with batch norm and skip connections, and a
VGG-style network (six 3x3 conv + batch-norm layers, two dense: the deepest plain stack here).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

N_CALIB = 256
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("OPTSOLVE_DATA") and _SHARED.is_dir():
    os.environ["OPTSOLVE_DATA"] = str(_SHARED)


def load_task(name: str, seed: int = 0):
    """(X_train, y_train, X_test, y_test) as dense float arrays; digits scaled to [0, 1]."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=seed,
                                              stratify=y)
        return Xtr, ytr, Xte, yte
    from optsolve.datasets import load_libsvm

    base = {"satimage": "satimage.scale", "dna": "dna.scale"}[name]
    Xtr, ytr = load_libsvm(base)
    Xte, yte = load_libsvm(base + ".t")
    return Xtr.toarray(), ytr, Xte.toarray(), yte


def validation_split(X, y, seed: int = 0, fraction: float = 0.2):
    """(X_fit, y_fit, X_val, y_val): a random ``fraction`` of a training set held out."""
    perm = np.random.default_rng(1000 + seed).permutation(len(X))
    n_val = int(len(X) * fraction)
    return X[perm[n_val:]], y[perm[n_val:]], X[perm[:n_val]], y[perm[:n_val]]


def train_sklearn_mlp(Xtr, ytr, hidden, seed=0, max_iter=200):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=seed,
                             alpha=1e-4).fit(Xtr, ytr)


def sklearn_accuracy(model, X, y) -> float:
    return float(model.score(X, y))


def sklearn_fine_tune(model, masks, X, y, epochs=3, batch_size=128, seed=0):
    """Masked fine-tuning: one partial_fit step per mini-batch, masks re-applied after each."""
    rng = np.random.default_rng(seed)
    model.set_params(learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                model.partial_fit(X[idx], y[idx])
                model.coefs_ = [w * m for w, m in zip(model.coefs_, masks, strict=True)]
    return model


# ---------------------------------------------------------------------------------- torch
def torch_models():
    import torch
    from torch import nn

    class LeNet5(nn.Module):
        """LeNet-5 layout for 8x8 inputs: two conv+pool stages, three dense layers."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
            self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
            self.fc1 = nn.Linear(16 * 2 * 2, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.short = None
            if stride != 1 or c_in != c_out:
                self.short = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                           nn.BatchNorm2d(c_out))

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + (x if self.short is None else self.short(x)))

    class ResNetSmall(nn.Module):
        """ResNet-style: stem, three residual stages (16, 32, 64 channels), global pool, fc."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(16)
            self.layer1 = Block(16, 16, 1)
            self.layer2 = Block(16, 32, 2)
            self.layer3 = Block(32, 64, 2)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = torch.relu(self.bn(self.stem(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(x.mean(dim=(2, 3)))

    class VGGSmall(nn.Module):
        """VGG-style, deeper than the others (8 prunable layers, as in the paper's VGG regime):
        three stages of two 3x3 conv + batch-norm layers (16, 32, 64 channels), two dense."""

        def __init__(self):
            super().__init__()
            layers, c_in = [], 1
            for stage, c in enumerate((16, 32, 64)):
                for _ in range(2):
                    layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
                               nn.ReLU()]
                    c_in = c
                if stage < 2:
                    layers.append(nn.MaxPool2d(2))
            self.features = nn.Sequential(*layers)
            self.fc1 = nn.Linear(64 * 2 * 2, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = torch.flatten(self.features(x), 1)
            return self.fc2(torch.relu(self.fc1(x)))

    return {"lenet5": LeNet5, "resnet": ResNetSmall, "vgg": VGGSmall}


def to_images(X):
    import torch

    return torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8)


def train_torch(model, X, y, epochs=40, lr=3e-3, seed=0, masks=None, names=None):
    """Adam on cross-entropy, mini-batches of 64 (the last partial batch dropped); with ``masks``,
    pruned weights are re-zeroed after every step."""
    import torch

    torch.manual_seed(seed)
    Xt, yt = to_images(X), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    params = None
    if masks is not None:
        params = [(model.get_submodule(n).weight, torch.as_tensor(m, dtype=torch.float32))
                  for n, m in zip(names, masks, strict=True)]
    model.train()
    # the last partial batch is dropped: digits' 1347 training images leave 3, and batch norm
    # over 3 samples can throw a trained network off (a VGG seed ended at 84 % instead of 99 %)
    n_full = len(Xt) - len(Xt) % 64 if len(Xt) >= 64 else len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(len(Xt))
        for start in range(0, n_full, 64):
            idx = perm[start:start + 64]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            if params is not None:
                with torch.no_grad():
                    for p, m in params:
                        p.mul_(m)
    model.eval()
    return model


def torch_accuracy(model, X, y) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        pred = model(to_images(X)).argmax(1).numpy()
    return float((pred == y).mean())
