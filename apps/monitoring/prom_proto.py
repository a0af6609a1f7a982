"""Prometheus remote-write 1.0 messages, declared in code for the `protobuf` runtime.

No maintained package on PyPI ships Prometheus's remote-write protos (the nearest,
prometheus-metrics-proto, is the 2020 client data model), so the few messages the
receiver reads are declared here as a FileDescriptorProto and decoded by protobuf's
C (upb) parser. Fields this file does not declare (metadata, exemplars, native
histograms) are skipped by the parser, as the spec requires of a receiver.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _message(name: str, fields: list[tuple[str, int, int, int, str]]):
    msg = descriptor_pb2.DescriptorProto(name=name)
    for field_name, number, kind, label, type_name in fields:
        field = msg.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            field.type_name = type_name
    return msg


def _build():
    file = descriptor_pb2.FileDescriptorProto(
        name="wedsync/prometheus_remote.proto", package="prometheus", syntax="proto3"
    )
    rep, opt = _F.LABEL_REPEATED, _F.LABEL_OPTIONAL
    file.message_type.extend(
        [
            _message(
                "Label",
                [("name", 1, _F.TYPE_STRING, opt, ""), ("value", 2, _F.TYPE_STRING, opt, "")],
            ),
            _message(
                "Sample",
                [("value", 1, _F.TYPE_DOUBLE, opt, ""), ("timestamp", 2, _F.TYPE_INT64, opt, "")],
            ),
            _message(
                "TimeSeries",
                [
                    ("labels", 1, _F.TYPE_MESSAGE, rep, ".prometheus.Label"),
                    ("samples", 2, _F.TYPE_MESSAGE, rep, ".prometheus.Sample"),
                ],
            ),
            _message(
                "WriteRequest", [("timeseries", 1, _F.TYPE_MESSAGE, rep, ".prometheus.TimeSeries")]
            ),
        ]
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    classes = message_factory.GetMessages([file], pool=pool)
    return classes["prometheus.WriteRequest"]


WriteRequest = _build()
