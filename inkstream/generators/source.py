"""Where the runner gets its generators: per task owner, since the providers in effect can change at run time
(an operator saves a new providers version) and differ by role (pro users may get a better image model)."""

from __future__ import annotations

from typing import Protocol

from inkstream.generators.base import CopyGenerator, ImageGenerator, OutlineGenerator


class GeneratorSource(Protocol):
    async def for_user(self, user_id: int) -> tuple[OutlineGenerator, ImageGenerator]:
        """The generators for a new outline or page of this user's task; raises GeneratorError when the providers
        in effect cannot be built (a key's environment variable missing, say)."""
        ...

    async def copy_for(self, user_id: int) -> CopyGenerator:
        """The writer of this user's post copy: the text provider in effect (or the offline writer)."""
        ...


class FixedGenerators:
    """The same pair for everyone: the offline default, or a providers file when nothing else is configured."""

    def __init__(self, outline: OutlineGenerator, image: ImageGenerator) -> None:
        self.pair = (outline, image)

    async def for_user(self, user_id: int) -> tuple[OutlineGenerator, ImageGenerator]:
        return self.pair

    async def copy_for(self, user_id: int) -> CopyGenerator:
        from inkstream.generators.factory import copy_generator_for

        return copy_generator_for(self.pair[0])
