namespace Dapp.Build.Ansible;

/// <summary>
/// dapp's own files in the ansible toolchain: the launchers that run the tree's programs with its own dynamic loader
/// and libraries (so the image's C library, or its lack of one, does not matter), ansible's configuration and
/// inventory, and the stdout callback. Written with <c>@ROOT@</c> (the tree's path in containers), <c>@WORK@</c>
/// (the stage's work directory) and <c>@COLLECTIONS@</c> (where the collection modules are mounted) left in, which is
/// how they enter the toolchain's hash.
/// </summary>
internal static class ToolchainFiles
{
    /// <summary>The stage's playbook, ansible's temporary files and the failure record; removed before the commit.</summary>
    public const string WorkDir = "/.dapp/ansible-work";

    /// <summary>Where the callback records the task that failed.</summary>
    public const string FailureFile = WorkDir + "/failure.json";

    public static IReadOnlyList<ToolchainFile> Own(IReadOnlyList<ToolchainFile> tree)
    {
        var python = tree.Single(f => f.TreePath.StartsWith("libexec/python", StringComparison.Ordinal)).TreePath;
        var loader = tree.Where(f => f.TreePath.StartsWith("so/ld-linux", StringComparison.Ordinal)).Select(f => f.TreePath).FirstOrDefault()
            ?? throw new DappException("the ansible toolchain needs the dynamic loader (ld-linux) of its Python, and ldd did not list one");
        var run = $"@ROOT@/{loader} --inhibit-cache --library-path @ROOT@/so";
        var files = new List<ToolchainFile>
        {
            new("bin/python", 0b111_101_101, Text: $"""
                #!/bin/sh
                # dapp's ansible toolchain: its Python, run by its own dynamic loader and libraries whatever the image has.
                exec {run} --argv0 @ROOT@/bin/python @ROOT@/{python} -E -s -B "$@"

                """),
            new("bin/ansible-playbook", 0b111_101_101, Text: """
                #!/bin/sh
                export LC_ALL=C.UTF-8 LOCPATH=@ROOT@/locale OPENSSL_MODULES=@ROOT@/ossl ANSIBLE_CONFIG=@ROOT@/ansible/ansible.cfg
                export PATH="${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}:@ROOT@/tools"
                exec @ROOT@/bin/python @ROOT@/libexec/ansible-playbook "$@"

                """),
            new("ansible/inventory", 0b110_100_100, Text: "localhost ansible_connection=local ansible_python_interpreter=@ROOT@/bin/python\n"),
            new("ansible/ansible.cfg", 0b110_100_100, Text: """
                [defaults]
                # ansible's own directory (~/.ansible otherwise, which would stay in the image).
                home = @WORK@/home
                inventory = @ROOT@/ansible/inventory
                interpreter_python = @ROOT@/bin/python
                stdout_callback = dapp
                callback_plugins = @ROOT@/ansible/callback
                # The collection modules the tasks name (AnsibleToolchain.CollectionsPath), and no other collections: not the image's.
                collections_path = @COLLECTIONS@
                collections_scan_sys_path = False
                local_tmp = @WORK@/tmp
                remote_tmp = @WORK@/tmp
                # become_user (an unprivileged user) reads the module files here: the work directory is removed after.
                system_tmpdirs = @WORK@/shared-tmp
                allow_world_readable_tmpfiles = True
                retry_files_enabled = False
                nocows = True

                [privilege_escalation]
                # Tasks run as root: su reaches any user of the image without a password, and every base image has it.
                become_method = su

                [connection]
                pipelining = True

                """),
            new("ansible/callback/dapp.py", 0b110_100_100, Text: ToolchainSource.Script("dapp_callback.py")),
        };
        if (tree.Any(f => f.TreePath == "libexec/tar"))
            files.Add(new("tools/gtar", 0b111_101_101, Text: $"""
                #!/bin/sh
                # GNU tar, which ansible's unarchive requires (busybox's tar is not enough): found as gtar, after the image's own tools.
                exec {run} --argv0 gtar @ROOT@/libexec/tar "$@"

                """));
        return files;
    }

    public static string Render(string template, string root) =>
        template.Replace("@ROOT@", root).Replace("@WORK@", WorkDir).Replace("@COLLECTIONS@", AnsibleToolchain.CollectionsPath);
}
