import pytest
from typer.testing import CliRunner

from ragtune import Project
from ragtune.cli.main import app
from ragtune.errors import ConfigError


def test_init_writes_valid_config_and_refuses_to_overwrite(tmp_path):
    proj = Project.init(tmp_path / "p")
    assert (proj.root / "ragtune.yaml").is_file() and proj.workdir.is_dir()
    assert proj.config.chunker.name == "recursive"
    with pytest.raises(ConfigError, match="already exists"):
        Project.init(tmp_path / "p")


@pytest.mark.parametrize("yaml_text,message", [
    ("retrieval:\n  topk: 3\n", "retrieval.topk: unknown key"),
    ("retrieval:\n  top_k: zero\n", "retrieval.top_k"),
    ("chunker:\n  name: magic\n", "chunker"),
    ("chunker:\n  name: token_window\n  chunk_tokens: 50\n  overlap_tokens: 80\n", "overlap_tokens"),
    ("llm: [1, 2\n", "not valid YAML"),
])
def test_bad_config_names_key_and_file(tmp_path, yaml_text, message):
    Project.init(tmp_path)
    (tmp_path / "ragtune.yaml").write_text(yaml_text)
    with pytest.raises(ConfigError) as e:
        Project(tmp_path)
    assert message in str(e.value) and "ragtune.yaml" in str(e.value)
    result = CliRunner().invoke(app, ["ask", "q", "-p", str(tmp_path)])
    assert result.exit_code == 1 and "ragtune.yaml" in result.stderr and "Traceback" not in result.stderr


def test_missing_project_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["ask", "q", "-p", str(tmp_path)])
    assert result.exit_code == 1 and "ragtune init" in result.stderr
