# An nn.Module MLP trained with a DataLoader over a TensorDataset, on three Gaussian blobs
# in 10 dimensions; evaluation in eval mode under no_grad.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

rng = np.random.default_rng(1)
centers = rng.normal(0, 2.0, (3, 10))
labels = rng.integers(0, 3, 1200)
features = centers[labels] + rng.normal(0, 1.0, (1200, 10))

X_train = torch.tensor(features[:1000], dtype=torch.float32)
y_train = torch.tensor(labels[:1000])  # int64
X_test = torch.tensor(features[1000:], dtype=torch.float32)
y_test = torch.tensor(labels[1000:])

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=100, shuffle=False)


class MLP(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_hidden)
        self.fc3 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = MLP(10, 32, 3).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def evaluate(loader):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            pred = model(xb).argmax(dim=1)
            correct += (pred == yb).sum().item()
            total += yb.size(0)
    model.train()
    return correct / total


for epoch in range(5):
    running = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * xb.size(0)
    print(f"epoch {epoch}: loss {running / len(train_loader.dataset):.4f}")

test_accuracy = evaluate(test_loader)
print(f"test accuracy: {test_accuracy:.3f}")
