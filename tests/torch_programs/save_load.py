# Train a little, save the state_dict and a checkpoint dict with torch.save, load them into
# a fresh model with torch.load, and check the loaded model predicts exactly the same.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(7)
rng = np.random.default_rng(7)
X = torch.tensor(rng.normal(size=(64, 6)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 2, 64))


def make_model():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))


model = make_model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(20):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()

with tempfile.TemporaryDirectory() as tmp:
    weights_path = os.path.join(tmp, "weights.pt")
    torch.save(model.state_dict(), weights_path)
    checkpoint_path = os.path.join(tmp, "checkpoint.pt")
    torch.save(
        {"epoch": 20, "loss": loss.item(), "model_state": model.state_dict()}, checkpoint_path
    )

    restored = make_model()
    restored.load_state_dict(torch.load(weights_path))
    checkpoint = torch.load(checkpoint_path)
    from_checkpoint = make_model()
    from_checkpoint.load_state_dict(checkpoint["model_state"])

    tensor_path = os.path.join(tmp, "tensors.pt")
    torch.save([X[:2], y[:2]], tensor_path)
    x_back, y_back = torch.load(tensor_path)

model.eval()
restored.eval()
with torch.no_grad():
    max_difference = (model(X) - restored(X)).abs().max().item()
    checkpoint_difference = (model(X) - from_checkpoint(X)).abs().max().item()
saved_epoch = checkpoint["epoch"]
tensors_equal = torch.equal(x_back, X[:2]) and torch.equal(y_back, y[:2])
label_dtype_kept = y_back.dtype == torch.int64
print(f"epoch {saved_epoch}, differences {max_difference} {checkpoint_difference}")
