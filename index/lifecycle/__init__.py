"""Index generations: manifest, writer, read snapshots and the handle that swaps them."""
