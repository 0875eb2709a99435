from ragtune.cli.main import app

app(prog_name="ragtune")
