"""docker/: the Dockerfile, the compose files and Caddy's configuration, checked without Docker.

The image cannot be built here, so everything it wires together is checked against the real pieces:
the replicas' `NEBULA_*` variables against `nebula serve --help` of the binary under test and through
its own validation, Caddy's upstreams against the replica services, and the Caddy configuration as
compose mounts it with `caddy validate`.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import pathlib
import re
import shutil
import subprocess
import urllib.parse

import pytest
import yaml

from e2e_lib import BIN, REPO, free_port

DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yml"
CONTAINERS_OVERLAY = DOCKER / "compose.containers.yml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CADDY_DIR = REPO / "caddy"

# Read by the server from the environment only (no flag).
ENV_ONLY = {"NEBULA_API_KEY", "NEBULA_SECRET_KEY"}
# What an operator would put into .env for the values .env.example leaves blank (generated as documented).
SAMPLES = {
    "NEBULA_DOMAIN": "nebula.example.org",
    "POSTGRES_PASSWORD": os.urandom(24).hex(),
    "NEBULA_API_KEY": "nbk_" + os.urandom(32).hex(),
    "NEBULA_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),  # openssl rand -base64 32
    "DOCKER_GID": "998",
}
BUILD_PACKAGES = ["libhiredis-dev", "zlib1g-dev", "libssl-dev"]


# --------------------------------------------------------------------------------------------------
# Reading the files the way compose and docker do
# --------------------------------------------------------------------------------------------------

def read_env_file(path: pathlib.Path) -> dict:
    """KEY=VALUE lines of a compose .env file; comments and blank lines skipped."""
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", line), f"{path.name}:{number}: not KEY=VALUE: {line!r}"
        key, value = line.split("=", 1)
        assert key not in values, f"{path.name}:{number}: {key} set twice"
        values[key] = value
    return values


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def referenced_variables(text: str) -> dict:
    """Variables a compose file interpolates -> True when one of its uses requires a value (`:?`/`?`)."""
    found: dict = {}
    for m in VARIABLE.finditer(text.replace("$$", "")):
        name = m.group(1) or m.group(4)
        found[name] = found.get(name, False) or (m.group(2) or "").endswith("?")
    return found


def interpolate(value, env: dict):
    """Compose's interpolation of every string in a parsed file (${VAR}, ${VAR:-d}, ${VAR:?e}, ${VAR:+a})."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(m):
        name = m.group(1) or m.group(4)
        operator, argument = m.group(2) or "", m.group(3) or ""
        current = env.get(name)
        empty = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("-"):
            return argument if empty else current
        if operator.endswith("?"):
            if empty:
                raise KeyError(f"required variable {name} is missing a value: {argument}")
            return current
        if operator.endswith("+"):
            return "" if empty else argument
        return current or ""

    parts = value.split("$$")
    return "$".join(VARIABLE.sub(substitute, part) for part in parts)


def operator_env() -> dict:
    """.env.example with its blank values filled in as an operator would."""
    env = read_env_file(ENV_EXAMPLE)
    for key, value in env.items():
        if value == "" and key in SAMPLES:
            env[key] = SAMPLES[key]
    return env


def load_compose(path: pathlib.Path = COMPOSE, env: dict | None = None) -> dict:
    data = yaml.safe_load(path.read_text())  # anchors and `<<` merge keys resolved here
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return interpolate(data, operator_env() if env is None else env)


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts(service: dict) -> list:
    """(source, target, read_only) of each volume, short or long syntax."""
    result = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            result.append((volume.get("source"), volume["target"], bool(volume.get("read_only"))))
        else:
            parts = volume.split(":")
            mode = parts[2] if len(parts) > 2 else ""
            result.append((parts[0], parts[1], "ro" in mode.split(",")))
    return result


def replicas(compose: dict) -> dict:
    """The services that run the image docker/Dockerfile builds."""
    found = {}
    for name, service in compose["services"].items():
        build = service.get("build")
        if isinstance(build, dict):
            context = (COMPOSE.parent / build.get("context", ".")).resolve()
            if (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve():
                found[name] = service
    return found


def depends_on(service: dict) -> dict:
    deps = service.get("depends_on") or {}
    return {d: {"condition": "service_started"} for d in deps} if isinstance(deps, list) else deps


def serve_options() -> set:
    """NEBULA_<OPTION> for every option `nebula serve --help` lists, plus the env-only ones."""
    assert os.path.exists(BIN), f"nebula binary not found at {BIN} (set NEBULA_BIN)"
    p = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert p.returncode == 0, p.stderr
    flags = set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)", p.stdout, re.M)) - {"help"}
    assert {"port", "database-url", "redis-url", "replica-id"} <= flags, f"unexpected help output:\n{p.stdout}"
    return {"NEBULA_" + f.upper().replace("-", "_") for f in flags} | ENV_ONLY


def caddy_variables() -> set:
    """The {$NEBULA_…} placeholders the Caddy configuration reads."""
    texts = [(REPO / "Caddyfile").read_text()] + [p.read_text() for p in CADDY_DIR.glob("*.caddy")]
    return set(re.findall(r"\{\$(NEBULA_[A-Z0-9_]+)", "\n".join(texts)))


def dockerfile_stages() -> list:
    """Instructions per stage: [(keyword, arguments)], continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    stages: list = []
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, arguments = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stages.append([])
        elif not stages:
            continue  # ARG before the first FROM
        stages[-1].append((keyword, " ".join(arguments.split())))
    return stages


def dockerfile_env(stage: list) -> dict:
    env = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            env.update(dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments)))
    return env


# --------------------------------------------------------------------------------------------------
# compose.yml
# --------------------------------------------------------------------------------------------------

def test_compose_has_postgres_redis_caddy_and_two_replicas_from_one_definition():
    compose = load_compose()
    services = compose.get("services") or {}
    assert {"postgres", "redis", "caddy"} <= set(services), sorted(services)
    assert services["postgres"]["image"].startswith("postgres:"), services["postgres"]["image"]
    assert services["redis"]["image"].startswith("redis:"), services["redis"]["image"]
    assert services["caddy"]["image"].startswith("caddy:"), services["caddy"]["image"]
    nebula = replicas(compose)
    assert len(nebula) >= 2, f"replicas building docker/Dockerfile: {sorted(nebula)}"
    # One definition: the replicas differ only in their name, their data volume and NEBULA_REPLICA_ID.
    def shared(service):
        s = {k: v for k, v in service.items() if k not in ("hostname", "volumes", "container_name")}
        s["environment"] = {k: v for k, v in environment(service).items() if k != "NEBULA_REPLICA_ID"}
        return s
    first, *others = nebula.values()
    for name, service in nebula.items():
        assert shared(service) == shared(first), f"{name} differs from the other replicas beyond its name"
        assert service.get("image"), f"{name} has no image name: the replicas must run one built image"
        assert service.get("restart") in ("unless-stopped", "always"), f"{name}: restart policy"
        assert not service.get("ports"), f"{name} publishes ports: only Caddy should be reachable"


def test_env_example_lists_every_variable_and_holds_no_secret():
    listed = read_env_file(ENV_EXAMPLE)
    used = {}
    for path in (COMPOSE, CONTAINERS_OVERLAY):
        for name, required in referenced_variables(path.read_text()).items():
            used[name] = used.get(name, False) or required
    missing = sorted(set(used) - set(listed))
    assert not missing, f"used in docker/compose*.yml but not in .env.example: {missing}"
    unused = sorted(set(listed) - set(used))
    assert not unused, f"in .env.example but used by no compose file: {unused}"
    for name in ("POSTGRES_PASSWORD", "NEBULA_API_KEY", "NEBULA_SECRET_KEY"):
        assert used.get(name), f"{name} must be required (${{{name}:?…}}) so compose refuses to start without it"
        assert listed[name] == "", f".env.example must not carry a value for the secret {name}"
    # Without the samples, compose refuses: every required blank really is required.
    with pytest.raises(KeyError, match="required variable"):
        load_compose(env=read_env_file(ENV_EXAMPLE))


def test_nebula_variables_are_serve_options():
    valid = serve_options()
    compose = load_compose()
    for name, service in replicas(compose).items():
        unknown = sorted(k for k in environment(service) if k.startswith("NEBULA_") and k not in valid)
        assert not unknown, f"{name}: not `nebula serve` options: {unknown}"
    runtime = dockerfile_stages()[-1]
    unknown = sorted(k for k in dockerfile_env(runtime) if k.startswith("NEBULA_") and k not in valid)
    assert not unknown, f"Dockerfile ENV: not `nebula serve` options: {unknown}"
    # .env.example: a NEBULA_* name is either the server's (and reaches the replicas) or Caddy's.
    replica_text = yaml.safe_dump({n: s.get("environment") for n, s in
                                   replicas(yaml.safe_load(COMPOSE.read_text())).items()})
    caddy_text = yaml.safe_dump(yaml.safe_load(COMPOSE.read_text())["services"]["caddy"].get("environment"))
    for key in read_env_file(ENV_EXAMPLE):
        if not key.startswith("NEBULA_"):
            continue
        if key in valid:
            assert key in referenced_variables(replica_text), f".env.example's {key} never reaches the replicas"
        else:
            assert key in caddy_variables(), f".env.example's {key} is neither a `nebula serve` option nor Caddy's"
            assert key in referenced_variables(caddy_text), f".env.example's {key} never reaches Caddy"


def test_replicas_have_distinct_ids_and_share_postgres_and_redis():
    compose = load_compose()
    services = compose["services"]
    nebula = replicas(compose)
    ids = [environment(s).get("NEBULA_REPLICA_ID") for s in nebula.values()]
    assert all(ids), f"every replica needs NEBULA_REPLICA_ID: {ids}"
    assert len(set(ids)) == len(ids), f"replica ids must differ: {ids}"

    pg = environment(services["postgres"])
    for name, service in nebula.items():
        env = environment(service)
        db = urllib.parse.urlsplit(env.get("NEBULA_DATABASE_URL", ""))
        assert db.scheme in ("postgres", "postgresql"), f"{name}: NEBULA_DATABASE_URL {db.geturl()!r}"
        assert db.hostname == "postgres" and (db.port or 5432) == 5432, f"{name}: database host {db.netloc}"
        assert db.username == pg.get("POSTGRES_USER", "postgres"), f"{name}: database user {db.username}"
        assert db.password == pg["POSTGRES_PASSWORD"], f"{name}: database password differs from postgres's"
        assert db.path.lstrip("/") == pg.get("POSTGRES_DB", db.username), f"{name}: database {db.path}"

        redis = urllib.parse.urlsplit(env.get("NEBULA_REDIS_URL", ""))
        assert redis.scheme in ("redis", "rediss"), f"{name}: NEBULA_REDIS_URL {redis.geturl()!r}"
        assert redis.hostname == "redis" and (redis.port or 6379) == 6379, f"{name}: redis host {redis.netloc}"

        for key in ("NEBULA_API_KEY", "NEBULA_SECRET_KEY"):
            assert env.get(key) == SAMPLES[key], f"{name}: {key} must come from .env"
        deps = depends_on(service)
        for dep in ("postgres", "redis"):
            assert deps.get(dep, {}).get("condition") == "service_healthy", f"{name} must wait for a healthy {dep}"
            assert services[dep].get("healthcheck", {}).get("test"), f"{dep} has no healthcheck"
        assert env.get("NEBULA_HOST") not in (None, "", "127.0.0.1", "localhost"), \
            f"{name}: NEBULA_HOST {env.get('NEBULA_HOST')!r} is unreachable from Caddy"

    # Everything that is not per replica is the same on all of them.
    shared = [{k: v for k, v in environment(s).items() if k != "NEBULA_REPLICA_ID"} for s in nebula.values()]
    assert all(s == shared[0] for s in shared)
    assert "--appendonly" in " ".join(map(str, services["redis"].get("command") or [])), \
        "redis without --appendonly yes loses channel history on restart"


def test_caddy_upstreams_are_the_replicas_and_they_trust_it():
    compose = load_compose()
    services = compose["services"]
    nebula = replicas(compose)
    caddy = services["caddy"]
    upstreams = environment(caddy).get("NEBULA_UPSTREAMS")
    if not upstreams:
        m = re.search(r"\{\$NEBULA_UPSTREAMS:([^}]*)\}", (REPO / "Caddyfile").read_text())
        assert m, "the Caddyfile has no {$NEBULA_UPSTREAMS:default}"
        upstreams = m.group(1)
    expected = {f"{name}:{environment(s).get('NEBULA_PORT', '8080')}" for name, s in nebula.items()}
    assert set(upstreams.split()) == expected, f"Caddy proxies to {upstreams.split()}, the replicas are {sorted(expected)}"

    caddy_networks = set(caddy.get("networks") or ["default"])
    for name, service in nebula.items():
        assert caddy_networks & set(service.get("networks") or ["default"]), f"Caddy cannot reach {name}"
    assert "NEBULA_DOMAIN" in environment(caddy), "Caddy needs NEBULA_DOMAIN for its certificate"
    ports = {str(p) for p in caddy.get("ports") or []}
    assert {"80:80", "443:443", "443:443/udp"} <= ports, f"caddy ports: {sorted(ports)}"
    targets = {target for _, target, _ in mounts(caddy)}
    assert {"/data", "/config"} <= targets, "Caddy's certificates need the /data and /config volumes"

    # NEBULA_TRUSTED_PROXY covers the network Caddy is on, so X-Forwarded-For is honoured.
    (network,) = caddy_networks
    subnets = [ipaddress.ip_network(c["subnet"]) for c in
               (compose.get("networks") or {}).get(network, {}).get("ipam", {}).get("config", [])]
    assert subnets, f"network {network} has no fixed subnet, so the replicas cannot name Caddy's addresses"
    for name, service in nebula.items():
        trusted = [ipaddress.ip_network(t.strip(), strict=False)
                   for t in environment(service).get("NEBULA_TRUSTED_PROXY", "").split(",") if t.strip()]
        for subnet in subnets:
            assert any(subnet.version == t.version and subnet.subnet_of(t) for t in trusted), \
                f"{name}: NEBULA_TRUSTED_PROXY {trusted} does not cover Caddy's network {subnet}"


def test_caddy_validates_the_configuration_as_mounted(tmp_path):
    """Lays out the files as compose mounts them into the caddy container, then `caddy validate`."""
    caddy_bin = shutil.which("caddy")
    assert caddy_bin, "caddy is not installed (scripts/install-deps.sh test installs it)"
    caddy = load_compose()["services"]["caddy"]
    root = tmp_path / "container"
    config = None
    for source, target, read_only in mounts(caddy):
        if not source or not source.startswith((".", "/")):
            continue  # a named volume
        source_path = (COMPOSE.parent / source).resolve()
        assert source_path.is_file(), f"caddy mounts {source}, which does not exist"
        assert read_only, f"caddy should mount {source} read-only"
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path, destination)
        if target == "/etc/caddy/Caddyfile":
            config = destination
            assert source_path == (REPO / "Caddyfile").resolve(), f"/etc/caddy/Caddyfile is {source}"
    assert config, "the repository's Caddyfile is not mounted at /etc/caddy/Caddyfile (the image's default)"
    cwd = tmp_path / "cwd"
    home = tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    env.update(environment(caddy))
    p = subprocess.run([caddy_bin, "validate", "--config", str(config), "--adapter", "caddyfile"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "Valid configuration" in p.stdout, p.stdout + p.stderr


def test_replica_environment_passes_serve_validation(tmp_path):
    """Each replica's environment, as compose and the image's ENV give it, accepted by the real binary:
    it gets past option validation (exit 2) to connecting to PostgreSQL, which is not there (exit 1)."""
    assert os.path.exists(BIN), f"nebula binary not found at {BIN} (set NEBULA_BIN)"
    image_env = dockerfile_env(dockerfile_stages()[-1])
    processes = {}
    for name, service in replicas(load_compose()).items():
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
        env.update(image_env)
        env.update(environment(service))
        # Paths that exist only in the image, and a port that is free here.
        env["NEBULA_DATA_DIR"] = str(tmp_path / name)
        if "NEBULA_WEB_DIR" in env:
            env["NEBULA_WEB_DIR"] = str(REPO / "web")
        env["NEBULA_HOST"] = "127.0.0.1"
        env["NEBULA_PORT"] = str(free_port())
        processes[name] = subprocess.Popen([BIN, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
    for name, p in processes.items():
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"{name}: still running although PostgreSQL at 'postgres' cannot exist here: {err[-600:]}")
        assert p.returncode != 2, f"{name}: the environment fails `nebula serve` validation: {err.strip()}"
        assert p.returncode == 1 and "PostgreSQL" in err, f"{name}: exit {p.returncode}: {err[-600:]}"


# --------------------------------------------------------------------------------------------------
# compose.containers.yml
# --------------------------------------------------------------------------------------------------

def test_containers_overlay_adds_socket_and_cgroups_to_every_replica():
    base = load_compose()
    overlay = load_compose(CONTAINERS_OVERLAY)
    nebula = replicas(base)
    assert set(overlay["services"]) == set(nebula), "the overlay must cover exactly the replicas"
    socket = "/var/run/docker.sock"  # `nebula serve`'s default --docker-host, unix:///var/run/docker.sock
    for name, service in overlay["services"].items():
        volumes = {target: (source, ro) for source, target, ro in mounts(service)}
        assert volumes.get(socket) == (socket, False), f"{name}: the Docker socket, read-write for actions"
        assert volumes.get("/sys/fs/cgroup") == ("/sys/fs/cgroup", True), f"{name}: /sys/fs/cgroup read-only"
        assert service.get("pid") == "host", f"{name}: the cgroup fast path needs pid: host"
        assert service.get("cgroup") == "host", f"{name}: the cgroup fast path needs the host's cgroup paths"
        assert [str(g) for g in service.get("group_add") or []] == [SAMPLES["DOCKER_GID"]], \
            f"{name}: group_add must be the socket's group from DOCKER_GID"
        # Compose merges volumes by target: the overlay must leave the replica's data volume alone.
        assert "/var/lib/nebula" not in volumes, f"{name}: the overlay replaces the data volume"
    for name, service in nebula.items():
        assert socket not in {t for _, t, _ in mounts(service)} and service.get("pid") != "host", \
            f"{name}: the socket and pid: host belong in the optional overlay, not in compose.yml"


# --------------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore
# --------------------------------------------------------------------------------------------------

def test_dockerfile_builds_nebula_and_ships_the_dashboard():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "a multi-stage build: a Swift build stage and a slim runtime"
    build = " ".join(arguments for stage in stages[:-1] for keyword, arguments in stage if keyword == "RUN")
    for package in BUILD_PACKAGES:
        assert re.search(rf"apt-get install[^&;]*\b{re.escape(package)}\b", build), f"build stage lacks {package}"
    assert re.search(r"swift build\b[^&;]*-c release[^&;]*--product nebula\b", build), \
        "the build stage must run `swift build -c release --product nebula`"

    runtime = stages[-1]
    run = " ".join(arguments for keyword, arguments in runtime if keyword == "RUN")
    assert re.search(r"apt-get install[^&;]*\blibhiredis\d", run), "the runtime needs the hiredis library"
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert any(c.startswith("--from=") for c in copies), "the runtime copies nothing from the build stage"

    # The dashboard: web/ is copied to where the server looks (NEBULA_WEB_DIR, or <bin>/../share/nebula/web).
    web_copies = [c.split() for stage in stages for keyword, c in stage if keyword == "COPY" and
                  re.match(r"(--\S+ )*web/? ", c)]
    assert web_copies, "the Dockerfile does not copy web/"
    destination = web_copies[0][-1].rstrip("/")
    if destination.startswith("/out/"):
        destination = destination[len("/out"):]  # staged in the build stage, copied over in one piece
        assert any(c.split()[-2:] == ["/out/", "/"] or c.endswith("/out /") for c in copies), copies
    web_dir = dockerfile_env(runtime).get("NEBULA_WEB_DIR", "/usr/local/share/nebula/web")
    assert destination == web_dir.rstrip("/"), f"web/ goes to {destination}, the server looks in {web_dir}"

    keywords = dict(runtime)
    entrypoint = (yaml.safe_load(keywords.get("ENTRYPOINT", "[]")) or [""])[0]
    if "NEBULA_WEB_DIR" not in dockerfile_env(runtime):
        # Found on its own next to the executable: <prefix>/bin/nebula and <prefix>/share/nebula/web.
        prefix = pathlib.PurePosixPath(entrypoint).parent.parent
        assert destination == str(prefix / "share" / "nebula" / "web"), f"{entrypoint} would not find {destination}"

    user = keywords.get("USER", "root")
    assert user not in ("root", "0"), "the image should not run as root"
    health = keywords.get("HEALTHCHECK", "")
    assert "/healthz" in health, "HEALTHCHECK should ask /healthz"
    if "curl" in health:
        assert re.search(r"apt-get install[^&;]*\bcurl\b", run), "HEALTHCHECK uses curl, which is not installed"
    assert "serve" in keywords.get("CMD", "") + keywords.get("ENTRYPOINT", ""), "the image does not run `nebula serve`"


def glob_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: `*` and `?` stay within a path segment, `**` crosses them."""
    p, out, i = pattern.strip().strip("/"), "", 0
    while i < len(p):
        if p.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif p.startswith("**", i):
            out, i = out + ".*", i + 2
        elif p[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif p[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(p[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, patterns: list) -> bool:
    """Whether the build context leaves `path` out: a pattern matching it or a parent directory; the
    last matching pattern decides, `!` re-includes."""
    parts = path.split("/")
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = glob_regex(pattern[1:] if negated else pattern)
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not negated
    return result


def test_dockerignore_keeps_build_output_out_and_sources_in():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    for path in (".git/HEAD", ".build/debug/nebula", ".build-release/release/nebula", "loadtest/results/x.json",
                 "Tests/e2e/__pycache__/e2e_lib.cpython-311.pyc"):
        assert dockerignored(path, patterns), f".dockerignore lets {path} into the build context"
    # Every path the Dockerfile copies from the context exists, and nothing the build needs is left out.
    needed = []
    for stage in dockerfile_stages():
        for keyword, arguments in stage:
            if keyword not in ("COPY", "ADD") or "--from=" in arguments:
                continue
            for source in [s for s in arguments.split()[:-1] if not s.startswith("--")]:
                if "*" in source:
                    continue  # optional, e.g. Package.resolved*
                path = REPO / source
                assert path.exists(), f"COPY {source}: not in the repository"
                files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
                needed += [f for f in files if f.suffix == ".swift" or f.name == "module.modulemap"
                           or source.rstrip("/") == "web"]
    assert any(f.name == "Package.swift" for f in needed) and any(f.suffix == ".js" for f in needed), \
        "the Dockerfile copies neither Package.swift nor the dashboard"
    left_out = sorted(str(f.relative_to(REPO)) for f in needed if dockerignored(str(f.relative_to(REPO)), patterns))
    assert not left_out, f".dockerignore leaves out what the image needs: {left_out[:10]}"
