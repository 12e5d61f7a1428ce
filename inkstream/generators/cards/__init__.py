"""Card rendering: the Pillow renderer of offline page images, its text layout and fonts."""
