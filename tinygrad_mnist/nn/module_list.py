"""`ModuleList`: a list of modules whose parameters the parent module finds (a plain Python
list inside a Module works too; ModuleList is torch's spelling of it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .module import Module


class ModuleList(Module):
    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._modules: list[Module] = []
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {module!r} is not a Module")
        self._modules.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i: int) -> Module:
        return self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)
