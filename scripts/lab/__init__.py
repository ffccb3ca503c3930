"""Lab code: training, SQuAD readers and evaluation metrics (not installed with docqa)."""
