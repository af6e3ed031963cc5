using System.CommandLine;
using Lasthope.Text.Encoder;
using Lasthope.Cli.Retraining;
using Lasthope.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope serve</c>: runs the HTTP service until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var urls = new Option<string>("--urls") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };
        var clockStart = new Option<DateTimeOffset?>("--clock-start") { Description = "Start the server's clock at this instant (then it runs at real speed): to serve history written in another time, such as a demo's simulated weeks." };
        var eventClock = new Option<DateTimeOffset?>("--event-clock") { Description = "Serve in event time: the clock starts at this instant and moves only to the timestamp of each rank request that carries a later one (a replay of a historical log through the API, in time order)." };
        var command = new Command("serve", "Run the ranking service (HTTP API, metrics, health) on the embedded store.") { data, config, urls, logLevel, clockStart, eventClock };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(clockStart) is not null && parse.GetValue(eventClock) is not null)
            {
                return context.Fail(ExitCodes.BadInput, "--clock-start and --event-clock exclude each other: the clock runs at real speed, or follows the requests' event time.");
            }

            var setup = CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config), parse.GetValue(urls)!);
            return await LasthopeServer.RunAsync(
                new ServerSetup
                {
                    DataDirectory = setup.DataDirectory,
                    ConfigFile = setup.ConfigFile,
                    Urls = setup.Urls,
                    MinimumLogLevel = parse.GetValue(logLevel),
                    Time = parse.GetValue(clockStart) is { } start ? new OffsetClock(start) : parse.GetValue(eventClock) is { } first ? new Server.State.EventClock(first) : null,
                    ConfigureServices = services =>
                    {
                        CliStores.Register(services);
                        RetrainSchedule.Register(services, setup.ConfigFile);
                        // Lasthope:Text:Encoder (int8, the default, or float32) and Lasthope:Text:EncoderThreads
                        // (default 1, the intra-op threads per call); an unknown precision stops the start.
                        services.AddMiniLmEncoder(sp =>
                        {
                            var configuration = sp.GetRequiredService<IConfiguration>();
                            var precision = configuration.GetValue("Lasthope:Text:Encoder", "int8");
                            return (MiniLmEncoder.ParsePrecision(precision) ?? throw new ArgumentException($"Lasthope:Text:Encoder must be int8 or float32, not '{precision}'."),
                                Math.Max(1, configuration.GetValue("Lasthope:Text:EncoderThreads", 1)));
                        });
                    },
                },
                "lasthope",
                context.Error,
                cancellationToken);
        });
        return command;
    }
}
