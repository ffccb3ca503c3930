"""Draw recall@k curves of several evaluation runs into a PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path


def plot_recall(curves: dict[str, list[float]], out: Path, title: str) -> None:
    """One line per run: recall@k for k = 1..len(curve).

    Raises:
        SystemExit: matplotlib is not installed (it is only needed for this plot).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: write the file only
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("error: --plot needs matplotlib: pip install matplotlib") from exc
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for run, curve in curves.items():
        ks = list(range(1, len(curve) + 1))
        axes.plot(ks, curve, marker="o", markersize=3, label=f"{run} (r@1 {curve[0]:.3f})")
    axes.set_xlabel("k")
    axes.set_ylabel("recall@k")
    axes.set_xticks([1, 5, 10, 15, 20])
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title(title)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)


def plot_reliability(curves: dict[str, dict[str, object]], out: Path, title: str) -> None:
    """Reliability diagram: per bin, mean predicted relevance against the observed rate.

    ``curves`` maps a label to a calibration report (``lab.answer_report.calibration``).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("error: the plot needs matplotlib: pip install matplotlib") from exc
    figure, axes = plt.subplots(figsize=(5.5, 5), dpi=120)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for label, report in curves.items():
        bins = report["bins"]
        assert isinstance(bins, list)
        xs = [b["mean_relevance"] for b in bins]
        ys = [b["relevant_rate"] for b in bins]
        ece = report["ece"]
        axes.plot(xs, ys, marker="o", markersize=4, label=f"{label} (ECE {ece:.3f})")
    axes.set_xlabel("predicted relevance (bin mean)")
    axes.set_ylabel("share of hits that are the gold paragraph")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")
    axes.set_title(title)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
