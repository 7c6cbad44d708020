using Dapp.Build.Ansible;
using Dapp.Config;

namespace Dapp.Tests.Unit;

/// <summary>What this host's ansible makes of dappfile tasks (no engine or registry: it runs the host's ansible-core): the modules they name and the collection files those need.</summary>
public class AnsibleModuleResolutionTests
{
    private static AnsibleTask Task(string yaml, int line) => new(yaml, new SourceLocation("dappfile.yml", line, 5));

    [Fact]
    public async Task Short_names_resolve_through_ansible_s_routing_and_bring_the_module_its_action_plugin_its_module_utils_and_the_routing_metadata()
    {
        var contents = await ToolchainSource.CollectAsync([
            Task("apk: {name: curl}\n", 1),
            Task("community.general.ini_file: {path: /x, section: a, option: b, value: c}\n", 2),
            Task("block:\n- synchronize: {src: /a, dest: /b}\nrescue:\n- docker_container: {name: x}\n", 3),
            Task("copy: {content: x, dest: /x}\nwith_items: [1]\nwhen: true\n", 4),
            Task("cloudtrail: {name: x}\n", 5),
        ], default);
        Assert.Equal([
            ["community.general.apk"], ["community.general.ini_file"], ["ansible.posix.synchronize", "community.docker.docker_container"], ["ansible.builtin.copy"], ["amazon.aws.cloudtrail"],
        ], contents.Tasks.Select(t => t.Modules));
        Assert.All(contents.Tasks, t => Assert.Null(t.Problem));
        var files = contents.Collections.Select(f => f.TreePath).ToList();
        foreach (var expected in new[]
                 {
                     "ansible_collections/community/general/plugins/modules/apk.py",
                     "ansible_collections/community/general/plugins/modules/ini_file.py",
                     "ansible_collections/community/general/meta/runtime.yml",
                     "ansible_collections/ansible/posix/plugins/modules/synchronize.py",
                     "ansible_collections/ansible/posix/plugins/action/synchronize.py",
                     "ansible_collections/community/docker/plugins/modules/docker_container.py",
                     "ansible_collections/community/docker/meta/runtime.yml",
                     "ansible_collections/community/docker/plugins/module_utils/common_api.py",
                     // cloudtrail went from ansible 2.9 to community.aws, which sends it on to amazon.aws.
                     "ansible_collections/community/aws/meta/runtime.yml",
                     "ansible_collections/amazon/aws/meta/runtime.yml",
                     "ansible_collections/amazon/aws/plugins/modules/cloudtrail.py",
                 })
            Assert.Contains(expected, files);
        Assert.DoesNotContain(files, f => f.Contains("__pycache__") || f.Contains("/ansible/builtin/") || f.Contains("/modules/npm.py"));
        Assert.All(contents.Collections, f => Assert.True(File.Exists(f.Source), f.Source));
        Assert.DoesNotContain(contents.Files, f => f.TreePath.Contains("ansible_collections"));
    }

    [Fact]
    public async Task A_module_its_collection_removed_is_refused_with_ansible_s_word_on_what_replaced_it()
    {
        var contents = await ToolchainSource.CollectAsync([Task("docker_image_facts: {name: x}\n", 7), Task("frobnicate: {}\n", 8)], default);
        Assert.Contains("docker_image_facts has been removed", contents.Tasks[0].Problem);
        Assert.Contains("docker_image_info", contents.Tasks[0].Problem);
        Assert.StartsWith("'frobnicate' is no module, action or task keyword of ansible-core ", contents.Tasks[1].Problem);
        Assert.Empty(contents.Collections);
    }
}
