using System.Globalization;

namespace Dapp;

/// <summary>
/// Which dapp process made an engine object (a build container), recorded in a label so that a later dapp can tell
/// the leftovers of a killed process from the objects of one still running: the host, its boot, and the process's
/// pid with its start time (a reused pid has another start time).
/// </summary>
public sealed record ProcessOwner(string Host, string BootId, int Pid, long StartTicks)
{
    /// <summary>This process.</summary>
    public static ProcessOwner Current { get; } = new(Environment.MachineName, ReadBootId(), Environment.ProcessId, ReadStartTicks(Environment.ProcessId) ?? 0);

    public override string ToString() => $"{Host}/{BootId}/{Pid}/{StartTicks}";

    /// <summary>Reads a label written by <see cref="ToString"/>; null when it is not one.</summary>
    public static ProcessOwner? Parse(string? label)
    {
        var parts = label?.Split('/');
        return parts is [var host, var boot, var pid, var start]
               && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p)
               && long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            ? new ProcessOwner(host, boot, p, s)
            : null;
    }

    /// <summary>
    /// True when the owner has certainly ended: it ran on this host and the host was rebooted since, or no process
    /// with its pid and start time runs now. An owner on another host is never known to have ended.
    /// </summary>
    public bool HasEnded(ProcessOwner current)
    {
        if (Host != current.Host) return false;
        if (BootId != current.BootId) return true;
        return ReadStartTicks(Pid) != StartTicks;
    }

    private static string ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Field 22 of /proc/PID/stat: the start time in clock ticks since boot; null when there is no such process.</summary>
    private static long? ReadStartTicks(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may contain spaces: count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }
}
