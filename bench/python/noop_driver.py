"""The Python framework's side of the bench: a no-op VIM driver on IBM/ignition 1.1.0.

It does what the bench's Rust driver does: every create is accepted at once, and its
task is COMPLETE at the first poll, so what is measured is the framework (the HTTP API,
the job queue on Kafka, the task events), not a VIM.

Usage: python noop_driver.py CONFIG.yml (the bench writes the file; see bench/src/python.rs).
Set up by scripts/python-baseline.
"""
import sys
import uuid

import ignition.boot.api as ignition
from ignition.model.infrastructure import (
    STATUS_COMPLETE,
    CreateInfrastructureResponse,
    DeleteInfrastructureResponse,
    FindInfrastructureResponse,
    InfrastructureTask,
)
from ignition.service.framework import Service
from ignition.service.infrastructure import InfrastructureDriverCapability


class NoopDriver(Service, InfrastructureDriverCapability):
    def create_infrastructure(self, template, template_type, system_properties, properties, deployment_location):
        return CreateInfrastructureResponse(str(uuid.uuid4()), str(uuid.uuid4()))

    def get_infrastructure_task(self, infrastructure_id, request_id, deployment_location):
        return InfrastructureTask(infrastructure_id, request_id, STATUS_COMPLETE, None, {})

    def delete_infrastructure(self, infrastructure_id, deployment_location):
        return DeleteInfrastructureResponse(infrastructure_id, str(uuid.uuid4()))

    def find_infrastructure(self, template, template_type, instance_name, deployment_location):
        return FindInfrastructureResponse(None)


if __name__ == "__main__":
    builder = ignition.build_vim_driver("BenchNoop")
    builder.include_file_config_properties(sys.argv[1], required=True)
    builder.add_service(NoopDriver)
    builder.run()
