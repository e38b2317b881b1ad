"""As torch.utils: `utils.data` holds the datasets' files, Dataset and the DataLoader."""

from . import data  # noqa: F401 - torch.utils.data is reachable from torch.utils
