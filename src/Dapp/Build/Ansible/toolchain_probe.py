# Run by dapp with this host's ansible-core and its Python (docs/dappfile.md#the-ansible-builder). Reads the dappfile's
# ansible tasks (JSON on stdin: {"tasks": [yaml, ...]}) and prints what the toolchain is made of: the interpreter's
# files, ansible-core and the packages it imports, and, for the tasks, the module each one names as ansible itself
# resolves it (short names of modules that moved to collections go through ansible-core's routing metadata) with the
# collection files those modules need: the module, its action plugin, the module_utils it imports (ansible's own
# dependency finder), and the routing metadata of each collection on the way.
import importlib, importlib.metadata as md, io, json, os, sys, sysconfig, zipfile


def toolchain():
    modules = ['ansible', 'jinja2', 'markupsafe', 'yaml', '_yaml', 'packaging', 'resolvelib', 'cryptography', '_cffi_backend']
    dists = ['ansible-core', 'Jinja2', 'MarkupSafe', 'PyYAML', 'packaging', 'resolvelib', 'cryptography']
    found = {m: importlib.import_module(m).__file__ for m in modules}
    # The pip module parses requirements with setuptools' pkg_resources: taken when the host has it.
    try:
        found['pkg_resources'] = importlib.import_module('pkg_resources').__file__
    except ImportError:
        pass
    import ansible.release
    return {'version': '%d.%d' % sys.version_info[:2], 'stdlib': sysconfig.get_paths()['stdlib'], 'modules': found,
            'metadata': [str(md.distribution(d)._path) for d in dists], 'ansible': ansible.release.__version__}


def resolve(tasks):
    from ansible.executor.module_common import recursive_finder
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.task import Task
    from ansible.plugins.loader import action_loader, module_loader
    from ansible.utils.collection_loader._collection_finder import _get_collection_path

    files = {}
    bases = {}

    def base_of(collection):
        # The directory holding ansible_collections/NS/NAME.
        if collection not in bases:
            bases[collection] = os.path.dirname(os.path.dirname(os.path.dirname(_get_collection_path(collection))))
        return bases[collection]

    def add(collection, relative):
        source = os.path.join(base_of(collection), relative)
        if os.path.isfile(source):
            files[relative] = source

    def collection_of(name):
        parts = name.split('.')
        return '.'.join(parts[:2]) if len(parts) >= 3 and parts[:2] != ['ansible', 'builtin'] else None

    def take(context):
        collection = context.plugin_resolved_collection
        if not collection or collection == 'ansible.builtin':
            return
        add(collection, os.path.relpath(context.plugin_resolved_path, base_of(collection)))
        for name in context.redirect_list:
            routed = collection_of(name)
            if routed:
                add(routed, os.path.join('ansible_collections', *routed.split('.'), 'meta', 'runtime.yml'))

    included = {}

    def include(action):
        # Once per name: tasks often name a module many times, and the dependency finder reads every module_util.
        if action not in included:
            included[action] = resolve_and_take(action)
        return included[action]

    def resolve_and_take(action):
        module = module_loader.find_plugin_with_context(action)
        if module.resolved:
            take(module)
            collection = module.plugin_resolved_collection
            if collection and collection != 'ansible.builtin':
                short = module.plugin_resolved_name.split('.')[-1]
                archive = zipfile.ZipFile(io.BytesIO(), 'w')
                with open(module.plugin_resolved_path, 'rb') as source:
                    recursive_finder(short, 'ansible_collections.%s.plugins.modules.%s' % (collection, short), source.read(), archive)
                for name in archive.namelist():
                    parts = name.split('/')
                    if parts[0] == 'ansible_collections' and len(parts) > 3:
                        add('.'.join(parts[1:3]), name)
        handler = action_loader.find_plugin_with_context(module.resolved_fqcn if module.resolved else action)
        if handler.resolved:
            take(handler)
        return module.resolved_fqcn if module.resolved else handler.resolved_fqcn if handler.resolved else action

    def actions(task):
        # A block's tasks are tasks too.
        if isinstance(task, dict) and any(k in task for k in ('block', 'rescue', 'always')):
            for key in ('block', 'rescue', 'always'):
                for inner in task.get(key) or []:
                    yield from actions(inner)
        else:
            # As ansible-playbook loads it: the module or action, and every other key a task keyword.
            yield Task.load(task, loader=loader).action

    def failure(error):
        message = str(error).split('\n')[0]
        unknown = None
        for prefix, suffix in (("couldn't resolve module/action '", "'. "), ("'", "' is not a valid attribute for a Task")):
            if message.startswith(prefix) and suffix in message[len(prefix):]:
                unknown = message[len(prefix):].split(suffix)[0]
        return {'error': message, 'unknown': unknown}

    loader = DataLoader()
    results = []
    for text in tasks:
        try:
            results.append({'modules': [include(action) for action in actions(loader.load(text))]})
        except Exception as e:  # ansible's own message: what ansible-playbook would stop on
            results.append(failure(e))
    names = None
    if any('error' in r for r in results):
        from ansible.utils.collection_loader._collection_finder import _get_collection_metadata
        routing = _get_collection_metadata('ansible.builtin').get('plugin_routing', {}).get('modules', {})
        routed = {name for name, route in routing.items() if route and 'redirect' in route and 'tombstone' not in route}
        core = os.path.join(os.path.dirname(importlib.import_module('ansible').__file__), 'modules')
        names = sorted(set(routed) | {f[:-3] for f in os.listdir(core) if f.endswith('.py') and not f.startswith('_')} | set(Task.fattributes))
    return {'tasks': results, 'collections': files, 'names': names}


request = json.load(sys.stdin)
answer = toolchain()
answer.update(resolve(request['tasks']))
print(json.dumps(answer))
