using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;

namespace Lasthope.Server.Telemetry;

/// <summary>
/// The server's traces: one <see cref="ActivitySource"/>, a span per request ("rank", "recommend") with a child span
/// per stage, and the served path as attributes of the request's span. Without a listener (no tracing configured)
/// starting a span costs a null check.
/// </summary>
public static class LasthopeActivity
{
    public const string SourceName = "Lasthope.Server";

    public static ActivitySource Source { get; } = new(SourceName, typeof(LasthopeActivity).Assembly.GetName().Version?.ToString());

    /// <summary>Attribute names, in OpenTelemetry's dotted style under the lasthope namespace.</summary>
    public static class Tags
    {
        public const string RequestId = "lasthope.request_id";
        public const string Surface = "lasthope.surface";
        public const string Segment = "lasthope.segment";
        public const string Candidates = "lasthope.candidates";
        public const string ServedBy = "lasthope.served_by";
        public const string FallbackReason = "lasthope.fallback_reason";
        public const string ModelVersion = "lasthope.model_version";
        public const string RerankDepth = "lasthope.rerank_depth";
        public const string BudgetMs = "lasthope.budget_ms";
        public const string ExperimentId = "lasthope.experiment.id";
        public const string ExperimentArm = "lasthope.experiment.arm";
    }

    /// <summary>Puts a served ranking's path on the request's span.</summary>
    public static void SetServedPath(this Activity? activity, RankingLog ranking)
    {
        if (activity is null)
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(ranking);
        activity.SetTag(Tags.Segment, ranking.Segment);
        activity.SetTag(Tags.ServedBy, ranking.ServedBy.ToWire());
        activity.SetTag(Tags.FallbackReason, ranking.FallbackReason?.ToWire());
        activity.SetTag(Tags.ModelVersion, ranking.ModelVersion);
        activity.SetTag(Tags.RerankDepth, ranking.RerankDepth);
        activity.SetTag(Tags.BudgetMs, ranking.BudgetMs);
        activity.SetTag(Tags.ExperimentId, ranking.Experiment?.ExperimentId);
        activity.SetTag(Tags.ExperimentArm, ranking.Experiment?.Arm);
    }
}
