"""The `hotline` command: serve, worker, seed-demo, create-admin, plus Flask's own (db, shell, routes)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def register_commands(app: Flask) -> None:
    for command in (serve, worker, seed_demo, create_admin, upgrade_db, audit_verify, sweep_timers, backup_command,
                    restore_command):
        app.cli.add_command(command)


@click.command("upgrade-db")
@with_appcontext
def upgrade_db() -> None:
    """Apply every pending migration (same as `hotline db upgrade`)."""
    from app.setup import apply_migrations, publish_shipped_processes

    apply_migrations()
    publish_shipped_processes()
    click.echo("数据库已是最新结构，随程序发布的流程已就绪。")


@click.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the hash-chained audit trail; exit 1 when any entry was edited or deleted."""
    from workflows.audit_trail import verify

    report = verify()
    if report.ok:
        click.echo(f"审计链完整：共校验 {report.checked} 条记录。")
        return
    for problem in report.problems:
        click.echo(f"✗ {problem}", err=True)
    raise click.exceptions.Exit(1)


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(destination: Path) -> None:
    """Back up the database, recordings and attachments into DESTINATION (a new or empty folder)."""
    from app.backup import BackupError, backup

    try:
        manifest = backup(destination)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"备份完成：{destination}（数据库 {manifest['database']}，结构版本 {manifest['revision']}，"
               f"{len(manifest['files'])} 个文件，均已记录校验和）")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="确认用备份覆盖当前数据库与录音、附件")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database, recordings and attachments with the backup in SOURCE (stop the web
    processes and workers first)."""
    from app.backup import BackupError, check, restore

    try:
        manifest = check(source)
        if not yes:
            click.confirm(f"用 {manifest['taken_at']} 的备份覆盖当前数据库与录音、附件？", abort=True)
        restore(source, manifest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已恢复 {manifest['taken_at']} 的备份。请运行 hotline upgrade-db 与 hotline audit-verify 后再启动服务。")


@click.command("sweep-timers")
@with_appcontext
def sweep_timers() -> None:
    """Fire every due working-day timer now (the worker does this every 30 seconds)."""
    from workflows.sweep import sweep_due_timers

    click.echo(sweep_due_timers())


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo organisation and logins in an empty database."""
    from app.demo import demo_logins, seed_demo_data

    if seed_demo_data():
        for username, password, roles in demo_logins():
            click.echo(f"  {username:<12} {password:<12} {roles}")
    else:
        click.echo("数据库中已有用户，未写入演示数据。")


@click.command("create-admin")
@click.argument("username")
@click.option("--name", default="系统管理员", help="显示的姓名")
@with_appcontext
def create_admin(username: str, name: str) -> None:
    """Create a system administrator with a temporary password (first step of a production set-up)."""
    from app.admin.user_services import UserInput, create_user

    user, password, errors = create_user(UserInput(username=username, display_name=name, roles=["admin"]))
    if errors:
        raise click.ClickException("；".join(f"{e.label}：{e.message}" for e in errors))
    click.echo(f"已创建管理员 {user.username}，临时密码：{password}（首次登录须修改）")


@click.command("worker")
@click.option("--burst", is_flag=True, help="处理完队列中的任务后退出")
@click.argument("queues", nargs=-1)
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an rq worker (with the scheduler) on the configured Redis."""
    from worker.main import run_worker

    run_worker(list(queues) or None, burst=burst)


@click.command("serve")
@click.option("--host", default=None, help="监听地址（默认 127.0.0.1，环境变量 HOTLINE_HOST）")
@click.option("--port", default=None, type=int, help="端口（默认 5000，环境变量 HOTLINE_PORT）")
@click.option("--workers", "web_workers", default=None, type=int, help="gunicorn 进程数")
def serve(host: str | None, port: int | None, web_workers: int | None) -> None:
    """Start everything: migrations, (embedded) Redis, an rq worker and the web server."""
    from app.supervisor import Supervisor

    Supervisor(current_app._get_current_object(), host, port, web_workers).run()  # type: ignore[attr-defined]


def _create_app() -> Flask:
    from app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="医保服务热线平台命令行。")
