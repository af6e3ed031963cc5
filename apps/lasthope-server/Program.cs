using Lasthope.ServerHost;
using Lasthope.Server.Hosting;
using Lasthope.Server.Redis;
using Lasthope.Storage.Postgres;
using Lasthope.Storage.Sqlite;

// lasthope-server: the server of `lasthope serve`, configured the ASP.NET Core way (ServerConfiguration).
if (ServerConfiguration.AsksForHelp(args))
{
    Console.Out.Write(ServerConfiguration.Usage);
    return 0;
}

ServerSetup setup;
try
{
    setup = ServerConfiguration.Read(args, services =>
    {
        services.AddSqliteEventStore().AddPostgresEventStore().AddRedisSharedState();
    });
}
catch (Exception e) when (e is ArgumentException or FormatException or InvalidDataException or FileNotFoundException)
{
    await Console.Error.WriteLineAsync($"error: invalid configuration: {e.Message}");
    return 2;
}

return await LasthopeServer.RunAsync(setup, "lasthope-server", Console.Error);
