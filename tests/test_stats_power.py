"""Power of the paired tests: minimum detectable difference, questions needed and achieved power, checked on
a hand-computed case and the degenerate ones."""

import math

import pytest
from pydantic import ValidationError

from ragtune.evaluation.config import BenchConfig
from ragtune.evaluation.stats import (
    achieved_power,
    holm,
    min_detectable_difference,
    paired_test,
    questions_needed,
)

# d = [0.1, 0.3, -0.1, 0.5, 0.2]: mean 0.2; deviations -0.1, 0.1, -0.3, 0.3, 0; squares sum to 0.2, so
# var = 0.2 / 4 = 0.05 (ddof 1), sd = sqrt(0.05) = 0.2236068, sd / sqrt(5) = sqrt(0.01) = 0.1.
D = [0.1, 0.3, -0.1, 0.5, 0.2]
SD = math.sqrt(0.05)
# z_0.975 = 1.9599640, z_0.8 = 0.8416212, sum 2.8015852
Z = 2.801585218112968


def test_hand_computed_mdd_questions_needed_and_power():
    t = paired_test("token_f1", "a", "b", D, [0.0] * 5, seed=0)
    assert t.n == 5 and t.diff == pytest.approx(0.2)
    # MDD = 2.8015852 x 0.1 = 0.2801585
    assert t.mdd == pytest.approx(0.2801585218, abs=1e-6)
    # n = ceil((2.8015852 x 0.2236068 / 0.2)^2) = ceil(7.8488797 x 1.25) = ceil(9.8111) = 10
    assert t.n_needed == 10
    # shift = 0.2 x sqrt(5) / 0.2236068 = 2; power = Phi(2 - 1.959964) + Phi(-2 - 1.959964)
    #       = Phi(0.040036) + Phi(-3.959964) = 0.5159678 + 0.0000375 = 0.5160053
    assert t.power == pytest.approx(0.5160053, abs=1e-6)
    assert t.to_dict()["mdd"] == t.mdd
    # the same from the pure functions
    assert min_detectable_difference(SD, 5) == pytest.approx(Z * 0.1, abs=1e-9)
    assert questions_needed(0.2, SD) == questions_needed(-0.2, SD) == 10
    assert achieved_power(0.2, SD, 5) == pytest.approx(0.5160053, abs=1e-6)


def test_questions_needed_reach_the_power_and_alpha_power_are_used():
    # at the questions needed the difference is detectable with at least 80% power, one question fewer it is not
    assert achieved_power(0.2, SD, 10) >= 0.8 > achieved_power(0.2, SD, 9)
    assert min_detectable_difference(SD, 10) <= 0.2 < min_detectable_difference(SD, 9)
    # alpha 0.01, power 0.9: z_0.995 + z_0.9 = 2.5758293 + 1.2815516 = 3.8573809
    t = paired_test("token_f1", "a", "b", D, [0.0] * 5, seed=0, alpha=0.01, power=0.9)
    assert t.mdd == pytest.approx(0.38573809, abs=1e-6)
    assert t.n_needed == math.ceil(3.8573809 ** 2 * 1.25)  # 18.6 -> 19
    holm([t], 0.01)
    assert t.mdd == pytest.approx(0.38573809, abs=1e-6) and t.n_needed == 19  # Holm leaves them alone


def test_degenerate_cases():
    empty = paired_test("m", "a", "b", [], [], seed=0)
    assert (empty.n, empty.mdd, empty.n_needed, empty.power) == (0, None, None, None)
    one = paired_test("m", "a", "b", [0.7], [0.2], seed=0)  # n = 1: no standard deviation
    assert one.diff == pytest.approx(0.5) and (one.mdd, one.n_needed, one.power) == (None, None, None)
    same = paired_test("m", "a", "b", [0.3, 0.4, 0.5, 0.6], [0.2, 0.3, 0.4, 0.5], seed=0)  # sd 0 (float noise)
    assert same.diff == pytest.approx(0.1) and (same.mdd, same.n_needed, same.power) == (None, None, None)
    tie = paired_test("m", "a", "b", [0.1, 0.0, 0.2, 0.0], [0.0, 0.1, 0.0, 0.2], seed=0)  # diff 0
    # d = [0.1, -0.1, 0.2, -0.2]: var = 0.1 / 3, MDD = Z x sqrt(0.1 / 3) / 2; power at no difference = alpha
    assert tie.diff == pytest.approx(0.0) and tie.n_needed is None
    assert tie.mdd == pytest.approx(Z * math.sqrt(0.1 / 3) / 2, abs=1e-9)
    assert tie.power == pytest.approx(0.05)
    assert min_detectable_difference(SD, 1) is None and min_detectable_difference(0.0, 5) is None
    assert questions_needed(0.0, SD) is None and questions_needed(0.2, 0.0) is None
    assert achieved_power(0.2, SD, 1) is None and achieved_power(0.2, 0.0, 5) is None


def test_bench_config_power():
    assert BenchConfig().power == 0.8 and BenchConfig(power=0.9).power == 0.9
    assert "minimum detectable difference" in BenchConfig.model_fields["power"].description
    with pytest.raises(ValidationError):
        BenchConfig(power=1.0)
