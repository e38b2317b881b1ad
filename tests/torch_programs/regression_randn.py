# Regression on random data made with randn: recover the weights of a noisy linear model
# with nn.Sequential, Adam and MSELoss, the data shuffled into minibatches with randperm.
import torch
from torch import nn

torch.manual_seed(0)
n, d = 512, 5
X = torch.randn(n, d)
w_true = torch.arange(1, d + 1, dtype=torch.float32).reshape(d, 1) / d
y = X @ w_true - 0.3 + 0.1 * torch.randn(n, 1)

model = nn.Sequential(nn.Linear(d, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.MSELoss()

for _epoch in range(40):
    perm = torch.randperm(n)
    for start in range(0, n, 64):
        idx = perm[start : start + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()

w_learned = model[0].weight.detach().reshape(-1)
weight_error = (w_learned - w_true.reshape(-1)).abs().max().item()
bias_learned = model[0].bias.item()
final_loss = loss_fn(model(X), y).item()
print(f"max weight error {weight_error:.4f}, bias {bias_learned:+.3f}, loss {final_loss:.5f}")
