# Linear regression with nn.Linear and a hand-written SGD step over model.parameters().
# The problem is convex, so every initialisation ends at the same least-squares answer.
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(42)
rng = np.random.default_rng(2)
X = torch.tensor(rng.uniform(-1, 1, (256, 4)), dtype=torch.float32)
true_w = torch.tensor([[2.0], [-1.0], [0.5], [3.0]])
y = X @ true_w + 0.7 + 0.05 * torch.tensor(rng.standard_normal((256, 1)), dtype=torch.float32)

model = nn.Linear(4, 1)
loss_fn = nn.MSELoss()
learning_rate = 0.1

for step in range(500):
    loss = loss_fn(model(X), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
    if step % 100 == 0:
        print(f"step {step}: loss {loss.item():.5f}")

final_loss = loss_fn(model(X), y).item()
weights = model.weight.detach().numpy().ravel().tolist()
bias = model.bias.item()
print(f"final loss {final_loss:.5f}  weights {weights}  bias {bias:.3f}")
