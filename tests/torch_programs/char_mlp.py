# A character-level MLP language model in the style of makemore: an embedding table C,
# a tanh hidden layer, minibatches drawn with randint, parameters updated through p.data.
import torch
import torch.nn.functional as F

words = (
    "amelia olivia isla ava mia ivy lily isabella rosie sophia grace willow freya florence "
    "emily ella poppy evie elsie charlotte evelyn sienna sofia daisy phoebe sophie alice "
    "harper matilda ruby emilia maya millie isabelle eva luna jessica aria lucy esme mila "
    "oliver george noah arthur harry leo muhammad jack charlie oscar jacob henry thomas "
    "freddie alfie theo william theodore archie joshua alexander james isaac edward lucas"
).split()

chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab_size = len(stoi)
block_size = 3


def build_dataset(ws):
    X, Y = [], []
    for w in ws:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


X, Y = build_dataset(words)
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab_size, 8), generator=g)
W1 = torch.randn((block_size * 8, 64), generator=g) * 0.2
b1 = torch.randn(64, generator=g) * 0.01
W2 = torch.randn((64, vocab_size), generator=g) * 0.01
b2 = torch.zeros(vocab_size)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True
print("parameters:", sum(p.nelement() for p in parameters))

for i in range(1000):
    ix = torch.randint(0, X.shape[0], (32,), generator=g)
    emb = C[X[ix]]
    h = torch.tanh(emb.view(-1, block_size * 8) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 800 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

with torch.no_grad():
    emb = C[X]
    h = torch.tanh(emb.view(-1, block_size * 8) @ W1 + b1)
    full_loss = F.cross_entropy(h @ W2 + b2, Y).item()
print(f"loss on all {X.shape[0]} examples: {full_loss:.4f}")

itos = {i: s for s, i in stoi.items()}
out = []
context = [0] * block_size
for _ in range(20):
    with torch.no_grad():
        h = torch.tanh(C[torch.tensor([context])].view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
    ix = torch.multinomial(probs, num_samples=1, generator=g).item()
    context = context[1:] + [ix]
    if ix == 0:
        break
    out.append(itos[ix])
print("sample:", "".join(out))
