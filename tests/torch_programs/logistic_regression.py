# Logistic regression by hand: two Gaussian blobs, weights as leaf tensors, the loss written
# out, gradient descent under no_grad. Zero initial weights, so nothing random but the data.
import numpy as np
import torch

rng = np.random.default_rng(0)
n = 200
X_np = np.concatenate([rng.normal(-1.0, 1.0, (n, 2)), rng.normal(1.0, 1.0, (n, 2))])
y_np = np.concatenate([np.zeros(n), np.ones(n)])

X = torch.from_numpy(X_np).float()
y = torch.from_numpy(y_np).float().reshape(-1, 1)

w = torch.zeros((2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.5

for epoch in range(100):
    z = X @ w + b
    p = torch.sigmoid(z)
    loss = -(y * torch.log(p + 1e-7) + (1 - y) * torch.log(1 - p + 1e-7)).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    if epoch % 25 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.4f}")

with torch.no_grad():
    predictions = (torch.sigmoid(X @ w + b) > 0.5).float()
    accuracy = (predictions == y).float().mean().item()
final_loss = loss.item()
print(f"final loss {final_loss:.4f}, accuracy {accuracy:.3f}, w = {w.detach().numpy().ravel()}")
