using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Reliability;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope reliability</c>: the reliability suite (fuzz, kills, slow clients, uploads, restart) against the real executable.</summary>
internal static class ReliabilityCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, // a memory figure of a server that is gone is NaN
    };

    public static Command Create(CliContext context)
    {
        var drills = new Option<string>("--drills") { Description = $"Drills to run, comma-separated: {string.Join(",", ReliabilityOptions.AllDrills)}.", DefaultValueFactory = _ => string.Join(",", ReliabilityOptions.AllDrills) };
        var quick = new Option<bool>("--quick") { Description = "The short run CI makes (about a minute and a half): 2,000 fuzz requests, 10 kills, 200 slow connections for 8 s, 96 MB uploads." };
        var requests = new Option<int?>("--requests") { Description = "Hostile requests of the fuzz drill (default 10,000; 2,000 with --quick)." };
        var kills = new Option<int?>("--kills") { Description = "SIGKILLs under event load (default 100; 10 with --quick)." };
        var slow = new Option<int?>("--slow-connections") { Description = "Connections trickling their body in the slow-client drill (default 200, probed for 20 s; --quick probes for 8 s)." };
        var seed = new Option<int>("--seed") { Description = "Seed of every generator.", DefaultValueFactory = _ => 42 };
        var json = new Option<string?>("--json") { Description = "Also write the report (every figure, bar and note) as JSON to this file." };
        var postgres = new Option<string?>("--postgres") { Description = "Keep the drills' store in this PostgreSQL database (an Npgsql connection string) instead of the embedded one; the kill drill then also runs a second replica, whose counters must converge." };
        var dataRoot = new Option<string?>("--data-root") { Description = "Where the drills make their temporary data directories (default: the system's temporary directory). They are deleted afterwards." };
        var command = new Command("reliability", "Run the reliability drills against this build's server, each on its own loopback port and data directory: hostile requests, SIGKILLs under event load, slow clients, oversized uploads, a restart. Prints each bar and whether it held; exit code 1 when one did not.")
        {
            drills, quick, requests, kills, slow, seed, json, dataRoot, postgres,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = parse.GetValue(drills)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => d.ToLowerInvariant()).Distinct().ToList();
            if ((names.Count == 0 ? "(none)" : names.FirstOrDefault(n => !ReliabilityOptions.AllDrills.Contains(n))) is { } unknown)
            {
                return context.Fail(ExitCodes.BadInput, $"--drills: '{unknown}' is not a drill; the drills are {string.Join(", ", ReliabilityOptions.AllDrills)}");
            }

            var isQuick = parse.GetValue(quick);
            var defaults = isQuick ? ReliabilityOptions.QuickDefaults : new ReliabilityOptions();
            var options = defaults with
            {
                Drills = [.. ReliabilityOptions.AllDrills.Where(names.Contains)],
                Requests = parse.GetValue(requests) ?? defaults.Requests,
                Kills = parse.GetValue(kills) ?? defaults.Kills,
                SlowConnections = parse.GetValue(slow) ?? defaults.SlowConnections,
                Seed = parse.GetValue(seed),
                DataRoot = parse.GetValue(dataRoot) is { } root ? Path.GetFullPath(root) : null,
                Postgres = parse.GetValue(postgres),
            };
            if (options.Requests < 1 || options.Kills < 1 || options.SlowConnections < 1 || options.SlowConnections > 5_000)
            {
                return context.Fail(ExitCodes.BadInput, "--requests and --kills must be at least 1, --slow-connections from 1 to 5,000");
            }

            ReliabilityReport report = null!;
            await context.Console.Progress().StartAsync(async progress =>
            {
                var tasks = options.Drills.ToDictionary(d => d, d => progress.AddTask(d, maxValue: 1), StringComparer.Ordinal);
                report = await new ReliabilitySuite(options, isQuick).RunAsync((drill, done) => tasks[drill].Value = done, cancellationToken);
            });
            Print(context.Out, report);
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file, JsonSerializer.Serialize(report, JsonOptions), cancellationToken);
            }

            return report.Passed ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static void Print(TextWriter o, ReliabilityReport report)
    {
        var rows = report.Drills.SelectMany(d => d.Checks).ToList();
        var name = Math.Max(5, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
        var value = Math.Max(5, rows.Count == 0 ? 0 : rows.Max(r => r.Value.Length));
        var bar = Math.Max(3, rows.Count == 0 ? 0 : rows.Max(r => r.Bar.Length));
        o.WriteLine($"{"drill",-8} {"check".PadRight(name)}  {"value".PadRight(value)}  {"bar".PadRight(bar)}  result");
        foreach (var drill in report.Drills)
        {
            foreach (var c in drill.Checks)
            {
                var result = !c.IsBar ? string.Empty : c.Passed ? "ok" : "FAILED";
                o.WriteLine($"{drill.Drill,-8} {c.Name.PadRight(name)}  {c.Value.PadRight(value)}  {c.Bar.PadRight(bar)}  {result}".TrimEnd());
            }

            if (drill.Error is not null)
            {
                o.WriteLine($"{drill.Drill,-8} {"could not finish".PadRight(name)}  {drill.Error}");
            }

            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{drill.Drill,-8} {(drill.Passed ? "passed" : "FAILED")} in {drill.Seconds:F0} s"));
        }

        foreach (var drill in report.Drills.Where(d => d.Notes.Count > 0))
        {
            o.WriteLine();
            o.WriteLine($"{drill.Drill} notes:");
            foreach (var note in drill.Notes)
            {
                o.WriteLine($"  {note}");
            }
        }

        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(report.Passed ? "all bars held" : "some bars did not hold")}: {report.Drills.Count(d => d.Passed)} of {report.Drills.Count} drills passed in {report.Seconds:F0} s (seed {report.Seed}{(report.Quick ? ", quick" : string.Empty)})"));
    }
}
