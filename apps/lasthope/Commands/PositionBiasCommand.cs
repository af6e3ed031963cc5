using System.CommandLine;
using System.Globalization;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope position-bias</c>: estimates the position-bias curve from the stored log, and saves it.</summary>
internal static class PositionBiasCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var maxPosition = new Option<int>("--max-position") { Description = "Positions estimated individually.", DefaultValueFactory = _ => 20 };
        var save = new Option<bool>("--save") { Description = "Save the curve in the store; the server uses it when Counters:PositionDebiasing is on (restart to apply)." };
        var command = new Command("position-bias", "Estimate the examination probability of each position from the logged impressions and clicks.") { data, config, maxPosition, save };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(maxPosition) is < 1 or > 1000)
            {
                return context.Fail(ExitCodes.BadInput, "--max-position must be in [1, 1000]");
            }

            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var estimator = await CounterState.EstimatePositionBiasAsync(store, parse.GetValue(maxPosition), cancellationToken);
                var curve = estimator.Estimate();
                if (curve is null)
                {
                    return context.Fail(ExitCodes.Failure, "the log has no clicks at position 1: nothing to estimate the curve from");
                }

                var direct = estimator.DirectRatio();
                var impressions = estimator.ImpressionsByPosition;
                var clicks = estimator.ClicksByPosition;
                context.Out.WriteLine("position  impressions  clicks  ctr       direct_ratio  estimated");
                for (var p = 1; p <= curve.Count; p++)
                {
                    var ctr = impressions[p - 1] > 0 ? clicks[p - 1] / impressions[p - 1] : 0;
                    context.Out.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{p,8}  {impressions[p - 1],11:N0}  {clicks[p - 1],6:N0}  {ctr,8:F5}  {(direct is null ? double.NaN : direct[p]),12:F4}  {curve[p],9:F4}"));
                }

                if (parse.GetValue(save))
                {
                    await store.SetSettingAsync(CounterState.PositionCurveSetting, curve.Serialize(), cancellationToken);
                    context.Error.WriteLine("saved; turn on Lasthope:Counters:PositionDebiasing and restart the server to use it.");
                }

                return ExitCodes.Ok;
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.Invalid(e));
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
        });
        return command;
    }
}
