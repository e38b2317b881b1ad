# Classify 8x8 images of bars (horizontal, vertical, and the two diagonals) with
# nn.Sequential(Flatten, Linear, ReLU, Dropout, Linear); the model is switched to eval mode
# to measure accuracy.
import numpy as np
import torch
from torch import nn

torch.manual_seed(3)
rng = np.random.default_rng(3)


def make_images(count):
    images = np.zeros((count, 1, 8, 8), dtype=np.float32)
    labels = rng.integers(0, 4, count)
    for i, label in enumerate(labels):
        k = rng.integers(0, 8)
        if label == 0:
            images[i, 0, k, :] = 1.0
        elif label == 1:
            images[i, 0, :, k] = 1.0
        elif label == 2:
            images[i, 0] = np.eye(8)
        else:
            images[i, 0] = np.fliplr(np.eye(8))
    images += rng.normal(0, 0.3, images.shape).astype(np.float32)
    return torch.from_numpy(images), torch.from_numpy(labels)


x_train, y_train = make_images(800)
x_test, y_test = make_images(200)

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(64, 32),
    nn.ReLU(),
    nn.Dropout(0.1),
    nn.Linear(32, 4),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.CrossEntropyLoss()

for _epoch in range(10):
    model.train()
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 50):
        batch = perm[i : i + 50]
        logits = model(x_train[batch])
        loss = loss_fn(logits, y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    predicted = torch.argmax(model(x_test), dim=1)
    test_accuracy = (predicted == y_test).float().mean().item()
print(f"test accuracy {test_accuracy:.3f}")
