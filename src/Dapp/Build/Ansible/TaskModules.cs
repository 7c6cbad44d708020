using Dapp.Config;

namespace Dapp.Build.Ansible;

/// <summary>
/// The modules one dappfile task names, as ansible resolves them on this host (a short name of a module that moved to
/// a collection, through ansible-core's routing metadata), or the reason ansible-playbook would refuse the task.
/// </summary>
internal sealed record TaskModules(AnsibleTask Task, IReadOnlyList<string> Modules, string? Problem)
{
    internal static TaskModules From(AnsibleTask task, ProbedTask probed, IReadOnlyList<string> known, string ansible)
    {
        if (probed.Error is null) return new(task, probed.Modules ?? [], null);
        if (probed.Unknown is not { } unknown) return new(task, [], probed.Error);
        // A collection's name is not misspelt as often as the module's: the last part is compared with the short names.
        var nearest = NearestNames.Find(unknown[(unknown.LastIndexOf('.') + 1)..], known);
        return new(task, [], $"'{unknown}' is no module, action or task keyword of {ansible} or of the collections on this host"
                             + (nearest.Count > 0 ? $" (nearest: {string.Join(", ", nearest)})" : ""));
    }

    /// <summary>Every task ansible-playbook would refuse, in one error naming each task's place, before any stage builds.</summary>
    public static void ThrowIfRefused(IReadOnlyList<TaskModules> tasks)
    {
        var refused = tasks.Where(t => t.Problem is not null).ToList();
        if (refused.Count == 0) return;
        var others = refused.Skip(1).Select(t => $"\n  {t.Task.Location}: ansible task: {t.Problem}");
        throw new DappfileException(refused[0].Task.Location, $"ansible task: {refused[0].Problem}{string.Concat(others)}");
    }
}
