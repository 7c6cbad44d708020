namespace Dapp.Bench;

/// <summary>CPU seconds used by an engine's process tree (dockerd, its containerd and shims), from /proc.</summary>
public static class CpuProfile
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static double EngineSeconds(int dockerdPid)
    {
        var processes = Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => int.TryParse(n, out _))
            .Select(n => (Pid: int.Parse(n), Stat: Read($"/proc/{n}/stat"))).Where(p => p.Stat is not null).ToList();
        var tree = new HashSet<int> { dockerdPid };
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, stat) in processes)
                if (!tree.Contains(pid) && tree.Contains(Field(stat!, 4)) && tree.Add(pid)) grew = true;
        }
        return processes.Where(p => tree.Contains(p.Pid)).Sum(p => (Field(p.Stat!, 14) + Field(p.Stat!, 15)) / TicksPerSecond);
    }

    private static string? Read(string path)
    {
        try { return File.ReadAllText(path); } catch (IOException) { return null; } catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Field n (1-based) of /proc/PID/stat; the command name may hold spaces, so count from its closing parenthesis.</summary>
    private static int Field(string stat, int n)
    {
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(rest[n - 3]);
    }
}
