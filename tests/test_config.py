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
    ("store:\n  backend: qdrant\n", "store backend 'qdrant' is not supported"),
    ("store:\n  backend: postgres\n", "store backend 'postgres' needs store.url"),
    ("store:\n  backend: postgres\n  url: mysql://db/x\n", "store.url: Value error, store url 'mysql://db/x' is not"),
    ("store:\n  url: postgresql://db/x\n", "only read by the 'postgres' backend"),
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


def test_project_from_a_config_in_memory(tmp_path):
    from ragtune.project import ProjectConfig

    proj = Project(tmp_path / "nowhere", config=ProjectConfig.model_validate({"retrieval": {"top_k": 7}}))
    assert proj.config.retrieval.top_k == 7 and not (proj.root / "ragtune.yaml").exists()
    assert proj.pipeline("hybrid").resources.settings.top_k == 7


def test_the_model_registry_of_registry_dir_is_the_one_everything_uses(tmp_path):
    proj = Project.init(tmp_path / "p")
    other = Project(proj.root, registry_dir=tmp_path / "shared")
    assert other.registry.root == other.training_resources.registry.root == other.bench_system.registry.root
    assert other.registry.root != proj.registry.root

