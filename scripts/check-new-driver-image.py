#!/usr/bin/env python3
"""What scripts/check-new-driver reads of a generated project's Dockerfile, .dockerignore
and Kubernetes manifests, and the container they describe (there is no container engine
here, so the check does what the engine and the kubelet would):

  context PROJECT OUT
      The build stage's view of the project: OUT becomes its WORKDIR, holding what its
      COPY lines take from the build context that .dockerignore leaves (a COPY of
      something .dockerignore excludes fails, as `docker build` would). Prints the
      stage's cargo command (its RUN line up to `&&`), one argument a line.
  layout PROJECT ROOTFS BINARY
      The runtime image under ROOTFS: the last stage's COPY lines (the binary from the
      build stage), and the Deployment's volumes at their mount paths (the ConfigMap's
      files, each Secret's files from its manifest in deploy/, emptyDirs). Writes
      ROOTFS.json: the image's entrypoint, healthcheck, workdir and user, the container's
      env, port and probes, the pod's grace period, the writable mounts.
  run ROOTFS entrypoint|healthcheck chroot|plain [NAME=VALUE...]
      Execs that command as the image would, with these variables added to the
      container's env. chroot: into ROOTFS as the image's user (the caller made the mount
      namespace); plain: the image's paths under ROOTFS, as the current user.
"""
import base64
import fnmatch
import glob
import json
import os
import shlex
import shutil
import sys

import yaml


def fail(message):
    sys.exit(f"check-new-driver-image: {message}")


def stages(project):
    """The Dockerfile's stages, each a list of (instruction, argument)."""
    text = open(os.path.join(project, "Dockerfile")).read().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        op, _, arg = line.strip().partition(" ")
        if op.upper() == "FROM":
            found.append([])
        if not found:
            fail(f"Dockerfile: {op} before the first FROM")
        found[-1].append((op.upper(), arg.strip()))
    return found


def ignored(project, source):
    """Whether .dockerignore keeps `source` (a top-level path) out of the build context:
    the last pattern that matches it decides; `!` re-includes."""
    path = os.path.join(project, ".dockerignore")
    excluded = False
    for line in open(path).read().splitlines() if os.path.exists(path) else []:
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatchcase(source.rstrip("/"), pattern):
            excluded = not negated
    return excluded


def copy(source, dest):
    if os.path.isdir(source):
        shutil.copytree(source, dest, dirs_exist_ok=True)  # keeps modification times
    else:
        os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        shutil.copy2(source, dest)


def context(project, out):
    build = stages(project)[0]
    workdir = next((arg for op, arg in build if op == "WORKDIR"), "/")
    os.makedirs(out, exist_ok=True)
    command = None
    for op, arg in build:
        if op == "COPY":
            *sources, dest = shlex.split(arg)
            for source in sources:
                if ignored(project, source):
                    fail(f"COPY {source}: .dockerignore keeps it out of the build context")
                if not os.path.exists(os.path.join(project, source)):
                    fail(f"COPY {source}: the project has no {source}")
                target = os.path.join(out, os.path.relpath(os.path.join(workdir, dest), workdir))
                if dest.endswith("/") or len(sources) > 1:
                    target = os.path.join(target, os.path.basename(source))
                copy(os.path.join(project, source), target)
        elif op == "RUN":
            words = shlex.split(arg.split("&&")[0])
            command = [word for word in words if not word.startswith("--mount=")]
    if not command or command[0] != "cargo":
        fail("the build stage runs no cargo command")
    print("\n".join(command))


def manifests(project):
    """Every Kubernetes object of deploy/ (and its subdirectories)."""
    found = []
    for path in sorted(glob.glob(os.path.join(project, "deploy", "**", "*.yaml"), recursive=True)):
        found.extend(doc for doc in yaml.safe_load_all(open(path)) if doc)
    return found


def named(objects, kind, name):
    return next((o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name), None)


def layout(project, rootfs, binary):
    runtime = stages(project)[-1]
    image = dict(runtime)
    for op, arg in runtime:
        if op == "COPY":
            *sources, dest = shlex.split(arg)
            source = binary if sources[0].startswith("--from=") else os.path.join(project, sources[0])
            copy(source, rootfs + dest)
    objects = manifests(project)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    writable = []
    for mount in container["volumeMounts"]:
        path = rootfs + mount["mountPath"]
        os.makedirs(path, exist_ok=True)
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        if "configMap" in volume:
            configmap = named(objects, "ConfigMap", volume["configMap"]["name"])
            if configmap is None:
                fail(f"volume {mount['name']}: no ConfigMap {volume['configMap']['name']} in deploy/")
            files = configmap.get("data", {})
        elif "secret" in volume:
            secret = named(objects, "Secret", volume["secret"]["secretName"])
            if secret is None and not volume["secret"].get("optional"):
                fail(f"volume {mount['name']}: no Secret {volume['secret']['secretName']} in deploy/")
            files = dict((secret or {}).get("stringData", {}))
            for key, value in (secret or {}).get("data", {}).items():
                files[key] = base64.b64decode(value).decode()
        elif "emptyDir" in volume:
            files = {}
            writable.append(mount["mountPath"])
        else:
            fail(f"volume {mount['name']}: a kind this check does not lay out")
        for key, value in files.items():
            open(os.path.join(path, key), "w").write(value)
    uid, gid = image["USER"].split(":")
    env = {}
    for variable in container.get("env", []):
        if "value" not in variable:
            fail(f"env {variable['name']}: only plain values are laid out")
        env[variable["name"]] = variable["value"]
    spec = {
        "entrypoint": json.loads(image["ENTRYPOINT"]),
        "healthcheck": json.loads(image["HEALTHCHECK"].split(" CMD ", 1)[1]),
        "workdir": image["WORKDIR"],
        "uid": int(uid),
        "gid": int(gid),
        "env": env,
        "port": container["ports"][0]["containerPort"],
        "probes": {
            name: container[name]["httpGet"]["path"]
            for name in ("startupProbe", "livenessProbe", "readinessProbe")
        },
        "grace": pod["terminationGracePeriodSeconds"],
        "writable": writable,
        "mounts": [m["mountPath"] for m in container["volumeMounts"]],
    }
    json.dump(spec, open(rootfs + ".json", "w"))
    for key, value in spec.items():
        print(f"  {key}: {value}")


def run(rootfs, command, mode, *extra):
    spec = json.load(open(rootfs + ".json"))
    argv, env = spec[command], dict(spec["env"])
    env.update(pair.split("=", 1) for pair in extra)
    if mode == "chroot":
        os.chroot(rootfs)
        os.chdir(spec["workdir"])
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
    else:  # the image's paths, under rootfs
        env = {k: rootfs + v if v.startswith("/var/") else v for k, v in env.items()}
        os.chdir(rootfs + spec["workdir"])
        argv = [rootfs + argv[0]] + argv[1:]
    os.execve(argv[0], argv, env)


{"context": context, "layout": layout, "run": run}[sys.argv[1]](*sys.argv[2:])
