from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from assets.api.serializers import StockMovementSerializer
from cmms.api.viewsets import CatalogueReadOnlyViewSet, SiteScopedNoDeleteViewSet
from cmms.errors import NotPermitted
from cmms.roles import Role
from sync.idempotency import KEY_PARAMETER, idempotent
from workorders import filtersets, notes, policy, service_lines, services, signatures
from workorders.api import serializers
from workorders.choices import Source
from workorders.models import FailureCode, WorkOrder


class FailureCodeViewSet(CatalogueReadOnlyViewSet):
    """Failure reporting codes (failure class, problem, cause, remedy); `?kind=problem`."""

    queryset = FailureCode.objects.all()
    serializer_class = serializers.FailureCodeSerializer
    filterset_class = filtersets.FailureCodeFilterSet


class WorkOrderViewSet(SiteScopedNoDeleteViewSet):
    """Work orders. Everyone at a site may create work requests; planners plan (PATCH/PUT,
    assign); technicians execute (transition, labour, checklist steps, parts). Work orders are
    cancelled, never deleted.
    """

    queryset = WorkOrder.objects.select_related(
        "asset", "required_skill", "problem", "cause", "remedy"
    ).prefetch_related("steps")
    serializer_class = serializers.WorkOrderSerializer
    filterset_class = filtersets.WorkOrderFilterSet
    ordering_fields = {"updated_at": "updated_at", "created_at": "created_at", "id": "id"}
    write_roles = policy.REQUEST_ROLES
    action_write_roles = {
        "update": policy.PLANNING_ROLES,
        "partial_update": policy.PLANNING_ROLES,
        "assign": policy.PLANNING_ROLES,
        "transition": policy.FIELD_WORK_ROLES,
        "labour": policy.FIELD_WORK_ROLES,
        "add_note": policy.FIELD_WORK_ROLES,
        "record_step": policy.FIELD_WORK_ROLES,
        "issue_part": policy.FIELD_WORK_ROLES,
        "external_services": policy.PLANNING_ROLES,
        "external_service": policy.PLANNING_ROLES,
        "client_approval": frozenset({Role.CUSTOMER_VIEWER}),
        "signatures": policy.FIELD_WORK_ROLES,
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset.prefetch_related(None)  # the checklist is on the detail view only
        return queryset

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.WorkOrderCreateSerializer
        if self.action == "retrieve":
            return serializers.WorkOrderDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.WorkOrderCreateSerializer,
        responses={201: serializers.WorkOrderCreateSerializer},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        user = self.request.user
        data = dict(serializer.validated_data)
        policy.check_request_planning(user, data)
        if not policy.may_plan(user):
            data["source"] = Source.REQUEST
        serializer.instance = services.work_order_create(by=user, **data)

    def perform_update(self, serializer):
        # One transaction: a refused estimate leaves the other fields of the PATCH unsaved.
        with transaction.atomic():
            self._update(serializer)

    def _update(self, serializer):
        data = dict(serializer.validated_data)
        estimate_given = "estimated_cost" in data
        estimated_cost = data.pop("estimated_cost", None)
        services.work_order_update(work_order=serializer.instance, by=self.request.user, **data)
        if estimate_given:
            services.work_order_estimate_set(
                work_order=serializer.instance, estimated_cost=estimated_cost, by=self.request.user
            )

    def _detail(self, work_order, *, code=status.HTTP_200_OK):
        work_order = self.get_queryset().get(pk=work_order.pk)
        data = serializers.WorkOrderDetailSerializer(
            work_order, context=self.get_serializer_context()
        ).data
        return Response(data, status=code)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.TransitionSerializer,
        responses={
            200: serializers.WorkOrderDetailSerializer,
            400: OpenApiResponse(description="Missing reason or failure codes, unknown status"),
            403: OpenApiResponse(description="Your role may not make this change"),
            409: OpenApiResponse(description="The lifecycle does not allow this change now"),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def transition(self, request, pk=None):
        """Change the status (the only way to): requested → approved → scheduled → in_progress
        ⇄ on_hold → completed → closed; cancelled from any open status.
        """
        work_order = self.get_object()
        data = self.validated(serializers.TransitionSerializer)
        codes = {k: data[k] for k in ("problem", "cause", "remedy") if data.get(k) is not None}
        services.work_order_transition(
            work_order=work_order,
            to=data["to"],
            reason=data["reason"],
            hold_reason=data.get("hold_reason", ""),
            by=request.user,
            **codes,
        )
        return self._detail(work_order)

    @extend_schema(filters=False, responses=serializers.StatusChangeSerializer(many=True))
    @action(detail=True)
    def history(self, request, pk=None):
        """Every status change, oldest first (paginated)."""
        work_order = self.get_object()
        page = self.paginate_queryset(work_order.history.select_related("changed_by"))
        data = serializers.StatusChangeSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.AssignSerializer,
        responses=serializers.WorkOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request, pk=None):
        """Give the work order to a technician of its site, or `null` to unassign."""
        work_order = self.get_object()
        data = self.validated(serializers.AssignSerializer)
        services.work_order_assign(
            work_order=work_order, assignee=data["assignee"], by=request.user
        )
        return self._detail(work_order)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.LabourSerializer,
        responses={201: serializers.LabourSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def labour(self, request, pk=None):
        """Record time spent (hours, note); `technician` defaults to the caller."""
        work_order = self.get_object()
        data = self.validated(serializers.LabourSerializer)
        entry = services.labour_add(
            work_order=work_order,
            technician=data.pop("technician", request.user),
            by=request.user,
            **data,
        )
        return Response(serializers.LabourSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.StepRecordSerializer,
        responses=serializers.ChecklistStepSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step_id>\d+)")
    @idempotent
    def record_step(self, request, pk=None, step_id=None):
        """Tick (or untick, `done: false`) a checklist step with a result or measured value."""
        work_order = self.get_object()
        step = get_object_or_404(work_order.steps.select_related("work_order"), pk=step_id)
        data = self.validated(serializers.StepRecordSerializer)
        step = services.checklist_step_record(step=step, by=request.user, **data)
        return Response(serializers.ChecklistStepSerializer(step).data)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.IssuePartSerializer,
        responses={201: StockMovementSerializer},
    )
    @action(detail=True, methods=["post"], url_path="issue-part")
    @idempotent
    def issue_part(self, request, pk=None):
        """Issue parts from a storeroom of the site to the work order (a ledger row)."""
        work_order = self.get_object()
        data = self.validated(serializers.IssuePartSerializer)
        movement = services.work_order_issue_part(
            work_order=work_order, stock=data["stock"], quantity=data["quantity"], by=request.user
        )
        return Response(StockMovementSerializer(movement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.NoteSerializer,
        responses={201: serializers.NoteSerializer},
    )
    @action(detail=True, methods=["post"], url_path="notes")
    @idempotent
    def add_note(self, request, pk=None):
        """Add a note to the work order's timeline (field work: not on closed or cancelled
        work)."""
        work_order = self.get_object()
        data = self.validated(serializers.NoteSerializer)
        note = notes.work_order_note_add(
            work_order=work_order, by=request.user, message=data["message"]
        )
        return Response(serializers.NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    def _service_lines(self, work_order):
        if not policy.may_see_costs(self.request.user):
            raise NotPermitted("Customer viewers do not see the partner's costs.")
        return work_order.services.select_related("work_order")

    @extend_schema(
        methods=["GET"], filters=False, responses=serializers.ServiceLineSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        parameters=[KEY_PARAMETER],
        request=serializers.ServiceLineSerializer,
        responses={201: serializers.ServiceLineSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="services", pagination_class=None)
    @idempotent
    def external_services(self, request, pk=None):
        """External services bought for the work order (planners add them; partner staff
        read them; customer viewers never see them)."""
        work_order = self.get_object()
        lines = self._service_lines(work_order)
        if request.method == "GET":
            return Response(serializers.ServiceLineSerializer(lines, many=True).data)
        data = self.validated(serializers.ServiceLineSerializer)
        line = service_lines.service_line_add(work_order=work_order, by=request.user, **data)
        return Response(
            serializers.ServiceLineSerializer(line).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["PATCH"],
        request=serializers.ServiceLineSerializer,
        responses=serializers.ServiceLineSerializer,
    )
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"services/(?P<line_id>\d+)")
    def external_service(self, request, pk=None, line_id=None):
        """Correct (PATCH) or remove (DELETE) one external service line."""
        work_order = self.get_object()
        line = get_object_or_404(self._service_lines(work_order), pk=line_id)
        if request.method == "DELETE":
            service_lines.service_line_delete(line=line, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = serializers.ServiceLineSerializer(line, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        line = service_lines.service_line_update(
            line=line, by=request.user, **serializer.validated_data
        )
        return Response(serializers.ServiceLineSerializer(line).data)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.ClientDecisionSerializer,
        responses={
            200: serializers.WorkOrderDetailSerializer,
            400: OpenApiResponse(description="A rejection without a comment"),
            403: OpenApiResponse(description="Only the client (a customer viewer) decides"),
            409: OpenApiResponse(description="The work is not waiting for the client"),
        },
    )
    @action(detail=True, methods=["post"], url_path="client-approval")
    @idempotent
    def client_approval(self, request, pk=None):
        """The client approves or rejects (with a comment saying why) work estimated above
        the contract's not-to-exceed amount: customer viewers of the work's site."""
        work_order = self.get_object()
        data = self.validated(serializers.ClientDecisionSerializer)
        services.work_order_client_decide(
            work_order=work_order, approve=data["approve"], comment=data["comment"], by=request.user
        )
        return self._detail(work_order)

    @extend_schema(
        methods=["GET"], filters=False, responses=serializers.SignatureSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        parameters=[KEY_PARAMETER],
        request=serializers.SignatureSerializer,
        responses={
            201: serializers.SignatureSerializer,
            400: OpenApiResponse(description="Not a PNG data URL, too large, blank, no signer"),
            403: OpenApiResponse(description="Only technicians and planners of the site sign"),
            409: OpenApiResponse(description="The work is not running (signatures sign it off)"),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    @idempotent
    def signatures(self, request, pk=None):
        """Sign-off signatures (docs/sign-off.md): the technician captures their own and the
        client representative's on the phone before completing. GET lists every signature,
        the superseded ones too (history), oldest first."""
        work_order = self.get_object()
        if request.method == "GET":
            rows = work_order.signatures.select_related("work_order")
            return Response(serializers.SignatureSerializer(rows, many=True).data)
        data = self.validated(serializers.SignatureSerializer)
        signature = signatures.work_order_signature_add(
            work_order=work_order,
            role=data["role"],
            signer_name=data.get("signer_name", ""),
            image=data["image"],
            by=request.user,
        )
        return Response(
            serializers.SignatureSerializer(signature).data, status=status.HTTP_201_CREATED
        )
