from io import StringIO

from django.core.management import call_command

FIGURES = (
    "Projected crossing, median absolute error",
    "30 days out",
    "14 days out",
    "7 days out",
    "False-alarm rate of proposed work orders on healthy series",
    "Anomaly detection delay after a step",
)


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate_monitoring", *args, stdout=out)
    return out.getvalue()


def test_the_quick_evaluation_prints_every_figure_with_its_seed():
    output = run("--quick", "--seed", "7")

    assert "Seed 7; 24 series" in output
    for figure in FIGURES:
        assert figure in output


def test_the_evaluation_is_reproducible_for_a_seed():
    first = run("--series", "8", "--seed", "3").splitlines()[:-1]  # the last line is its time
    second = run("--series", "8", "--seed", "3").splitlines()[:-1]

    assert first == second
