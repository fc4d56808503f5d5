"""Quantization quality targets on the trained models (issue 4), measured against the
unquantized model itself: q8 mean KL <= 3e-4 and PPL within 0.3%; q4 g64 default method KL
<= 0.85 x rtn's; q4 g64 with --calib <= 0.6 x rtn's. Slow (real conversions and evaluations):
marked `slow`, run in the optimised build only."""
import pytest

from conftest import shared
import quality_table

pytestmark = pytest.mark.slow

QUICK = [("rtn", 4, 64, False), ("search", 4, 64, False), ("search", 4, 64, True),
         ("search", 8, 64, False)]


@pytest.fixture(scope="module")
def calib_text(tmp_path_factory):
    data = open(shared("text", "tinyshakespeare.txt"), "rb").read()
    path = tmp_path_factory.mktemp("calib") / "calib.txt"
    path.write_bytes(data[: int(0.9 * len(data))])  # the training part, never the held-out tail
    return str(path)


@pytest.mark.parametrize("model", ["shakespeare-qwen2", "stories260K"])
def test_quality_targets(model, calib_text):
    shared("models", model)
    rows = {r["method"] + str(r["bits"]): r for r in quality_table.measure(model, 30, 4096, QUICK, calib_text)}
    print(quality_table.markdown(list(rows.values())))
    q8 = rows["search8"]
    assert q8["kl"] <= 3e-4
    assert abs(q8["ppl"] / q8["base_ppl"] - 1) <= 0.003
    assert rows["search4"]["kl"] <= 0.85 * rows["rtn4"]["kl"]
    assert rows["search+calib4"]["kl"] <= 0.6 * rows["rtn4"]["kl"]
