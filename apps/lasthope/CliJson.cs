using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Server.Experiments;
using Lasthope.Server.Stats;

namespace Lasthope.Cli;

/// <summary>The JSON the CLI reads and writes, source-generated; shapes follow the HTTP API's (the OpenAPI document).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ItemStats))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>The experiment report's JSON: indented, enums by their wire names, NaN allowed (a cell without impressions has no CTR).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    WriteIndented = true)]
[JsonSerializable(typeof(ExperimentReport))]
[JsonSerializable(typeof(Lasthope.Training.PolicyEstimateReport))]
[JsonSerializable(typeof(Lasthope.Training.RerankEstimateReport))]
[JsonSerializable(typeof(Lasthope.Cli.Commands.RetrainSummary))]
[JsonSerializable(typeof(Lasthope.Cli.Replay.ReplayResult))]
[JsonSerializable(typeof(Lasthope.Cli.Demo.AbTestResult))]
[JsonSerializable(typeof(Lasthope.Cli.Commands.TrainModelSummary))]
[JsonSerializable(typeof(Lasthope.Cli.Commands.TrainTextSummary))]
[JsonSerializable(typeof(Dictionary<string, Lasthope.Server.Predict.ReasonTemplate>))]
internal sealed partial class ReportJson : JsonSerializerContext;
