using Lasthope.Core.Identifiers;
using Lasthope.Server.Experiments;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>GET /v1/experiments/{id}/report: an experiment read out of the impression log.</summary>
public static class ExperimentsApi
{
    /// <summary>The longest window a report reads.</summary>
    public const int MaxDays = 90;

    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/experiments/{id}/report", GetReportAsync)
            .WithName("ExperimentReport")
            .WithSummary("An experiment's readout")
            .WithDescription("Per arm: users, requests, impressions, clicks, CTR with an interval clustered by user, the intention-to-treat effect against control; the requests and CTR by the path that actually served; the sample-ratio test, the fallback-skew alarm and a verdict in words.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessRules.AnyKey);
        return app;
    }

    public static async Task<Results<Ok<ExperimentReportDto>, ProblemHttpResult, ValidationProblem>> GetReportAsync(
        string id, string? days, ExperimentReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var parameters = new Parameters();
        parameters.Id("route.id", id);
        var window = parameters.WholeNumber("days", days, 30, 1, MaxDays);
        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid experiment report request");
        }

        ExperimentReport? report;
        try
        {
            report = await reports.ReadAsync(id, time.GetUtcNow().AddDays(-window), cancellationToken);
        }
        catch (ExperimentWindowTooLargeException e)
        {
            parameters.Add("query.days", e.Message);
            return parameters.Problem("Invalid experiment report request");
        }

        return report is null
            ? Problems.NotFound("route.id", "Experiment not found", $"No experiment '{Ids.Printable(id)}' is configured.")
            : TypedResults.Ok(ExperimentReportDto.Of(report));
    }
}

/// <summary>An estimate with its interval.</summary>
public sealed record IntervalDto(double Estimate, double Lower, double Upper, double Level)
{
    public static IntervalDto Of(Evaluation.Interval i) => new(i.Estimate, i.Lower, i.Upper, i.Level);
}

/// <summary>The requests of an arm one path served.</summary>
public sealed record PathCellDto(Core.Serving.ServedBy ServedBy, Core.Serving.FallbackReason? FallbackReason, int Requests, long Impressions, long Clicks, double? Ctr);

/// <summary>An arm's requests of one UTC day (event time), and how many the model served.</summary>
public sealed record ArmDayDto(DateOnly Day, int Requests, long Impressions, long Clicks, int ServedByModel, double? Ctr);

/// <summary>One arm of a readout.</summary>
public sealed record ArmReadoutDto(
    string Arm, int Users, int Requests, long Impressions, long Clicks, IntervalDto Ctr, IntervalDto? EffectVsControl,
    bool MeantModel, double FallbackShare, double PartialShare, IReadOnlyList<PathCellDto> Paths, IReadOnlyList<ArmDayDto> Days);

/// <summary>The sample-ratio test of users per arm against the configured weights.</summary>
public sealed record SampleRatioDto(double ChiSquare, int DegreesOfFreedom, double PValue, bool Alarm);

/// <summary>The fallback-skew alarm.</summary>
public sealed record FallbackSkewDto(string? Arm, double FallbackShare, double PartialShare, double Threshold, bool Alarm);

/// <summary>The response of GET /v1/experiments/{id}/report.</summary>
public sealed record ExperimentReportDto(
    string ExperimentId, string Control, IReadOnlyList<ArmReadoutDto> Arms, SampleRatioDto Srm, FallbackSkewDto FallbackSkew, string Verdict)
{
    public static ExperimentReportDto Of(ExperimentReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(
            r.ExperimentId,
            r.Control,
            [.. r.Arms.Select(a => new ArmReadoutDto(
                a.Arm, a.Users, a.Requests, a.Impressions, a.Clicks, IntervalDto.Of(a.Ctr), a.EffectVsControl is { } e ? IntervalDto.Of(e) : null,
                a.MeantModel, a.FallbackShare, a.PartialShare,
                [.. a.Paths.Select(p => new PathCellDto(p.ServedBy, p.Reason, p.Requests, p.Impressions, p.Clicks, double.IsFinite(p.Ctr) ? p.Ctr : null))],
                [.. a.Days.Select(d => new ArmDayDto(d.Day, d.Requests, d.Impressions, d.Clicks, d.ServedByModel, double.IsFinite(d.Ctr) ? d.Ctr : null))]))],
            new SampleRatioDto(r.SampleRatio.ChiSquare, r.SampleRatio.DegreesOfFreedom, r.SampleRatio.PValue, r.SampleRatio.Alarm),
            new FallbackSkewDto(r.FallbackSkew.Arm, r.FallbackSkew.FallbackShare, r.FallbackSkew.PartialShare, r.FallbackSkew.Threshold, r.FallbackSkew.Alarm),
            r.Verdict);
    }
}
