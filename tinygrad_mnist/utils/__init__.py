"""As torch.utils: `utils.data` holds the datasets' files and the DataLoader."""
