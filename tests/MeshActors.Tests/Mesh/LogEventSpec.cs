using System.Reflection;
using MeshActors.Actors;
using Microsoft.Extensions.Logging;

namespace MeshActors.Tests.Mesh;

/// <summary>What operators filter and alert on: the event ids of the library's log lines.</summary>
public sealed class LogEventSpec
{
    [Fact]
    public void Every_log_event_id_names_one_kind_of_line_across_the_library()
    {
        var events = new[] { typeof(MeshNode).Assembly, typeof(ActorSystem).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (Method: method, Event: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(found => found.Event is not null)
            .ToList();

        Assert.True(events.Count > 50, $"only {events.Count} log methods found: the scan no longer sees them");
        var shared = events
            .GroupBy(found => found.Event!.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(found => found.Method.DeclaringType!.Name + "." + found.Method.Name))}")
            .ToList();
        Assert.True(shared.Count == 0, "event ids used twice:\n" + string.Join('\n', shared));
    }
}
