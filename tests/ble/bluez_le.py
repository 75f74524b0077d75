# -*- coding: utf-8 -*-
'''LE devices and GATT for python-dbusmock's bluez5 template.

The 0.28.7 template has adapters and devices but no GATT, and its
Device1.Connect neither sets Connected nor resolves services. This file is
loaded into a running `python3 -m dbusmock --template bluez5` with
org.freedesktop.DBus.Mock.AddTemplate(<this file>, {}). It adds the
interface org.nursery.BluezMock on the root object:

- adapters whose discovery finds "advertisers" (devices BlueZ does not know
  yet appear when a scan matching its filter runs);
- LE devices whose Connect/Disconnect behave as BlueZ's: Connected goes
  true, the call returns, then ServicesResolved goes true;
- GATT services and characteristics (objects added with Mock.AddObject and
  announced with InterfacesAdded), with asynchronous ReadValue, WriteValue,
  StartNotify and StopNotify, so a reply can be delayed or never sent;
  notifications are PropertiesChanged on Value, sent only while Notifying;
- Battery1, failure injection, silent devices, python hooks run on a write
  or a read, and a record of every call with the time it arrived and the
  time it was answered, on time.monotonic() (CLOCK_MONOTONIC, the clock of
  std::chrono::steady_clock in the test).

Nothing here is BlueZ's code: it is a behavioural model of the parts of
bluetoothd 5.66 the hub relies on (doc/*-api.txt, src/gatt-client.c).
'''

import json
import time

import dbus
import dbus.service
from gi.repository import GLib

from dbusmock import OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import bluez5

MOCK_IFACE = 'org.nursery.BluezMock'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
SERVICE_IFACE = 'org.bluez.GattService1'
CHAR_IFACE = 'org.bluez.GattCharacteristic1'
BATTERY_IFACE = 'org.bluez.Battery1'


def _error(name, message):
    return dbus.exceptions.DBusException(message, name=name)


def _bytes(value):
    return dbus.Array([dbus.Byte(b) for b in bytes(value)], signature='y')


def _plain(value):
    '''dbus-python values -> JSON-friendly python values, for the record.'''
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, int)):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


def _later(delay_ms, fn):
    '''Runs fn on the mock's main loop after delay_ms (at once for 0).'''
    if delay_ms <= 0:
        fn()
        return

    def fire():
        fn()
        return False
    GLib.timeout_add(int(delay_ms), fire)


class Record:
    '''One call or event, as GetRecords() returns it.'''

    def __init__(self, path, interface, method, args=None, value=b''):
        self.t = time.monotonic()
        self.path = path
        self.interface = interface
        self.method = method
        self.args = json.dumps(_plain(args)) if args is not None else ''
        self.value = bytes(value)
        self.replied = 0.0
        self.outcome = 'pending'

    def done(self, outcome):
        self.replied = time.monotonic()
        self.outcome = outcome

    def as_struct(self):
        return dbus.Struct((dbus.Double(self.t), dbus.String(self.path),
                            dbus.String(self.interface), dbus.String(self.method),
                            dbus.String(self.args), _bytes(self.value),
                            dbus.Double(self.replied), dbus.String(self.outcome)),
                           signature='dssssayds')


class Characteristic:
    def __init__(self, uuid, flags, value):
        self.uuid = uuid.lower()
        self.flags = list(flags)
        self.value = bytes(value)
        self.path = ''
        self.reply_delay_ms = 0
        self.failures = {}   # method -> [error name, message, remaining count]
        self.write_hook = ''
        self.read_hook = ''


class Service:
    def __init__(self, uuid):
        self.uuid = uuid.lower()
        self.path = ''
        self.characteristics = []


class Device:
    def __init__(self, adapter, address, name, options):
        self.adapter = adapter
        self.address = address.upper()
        self.name = name
        self.path = f'/org/bluez/{adapter}/dev_{self.address.replace(":", "_")}'
        self.rssi = int(options.get('rssi', -60))
        self.uuids = [str(u).lower() for u in options.get('uuids', [])]
        self.manufacturer = {int(k): bytes(v) for k, v in options.get('manufacturer', {}).items()}
        self.address_type = str(options.get('address_type', 'random'))
        self.advertising = bool(options.get('advertising', True))
        self.start_connected = bool(options.get('connected', False))
        self.battery = None
        self.services = []
        self.exported = False
        # behaviour
        self.connect_delay_ms = 20
        self.resolve_delay_ms = 30
        self.abort_disconnect_delay_ms = 250
        self.connect_silent = False
        self.gatt_silent = False
        self.connect_failures = []   # [error name, message, remaining count]
        self.pending_connects = []

    def characteristic(self, uuid):
        uuid = uuid.lower()
        for service in self.services:
            for ch in service.characteristics:
                if ch.uuid == uuid:
                    return ch
        raise _error('org.nursery.BluezMock.NoSuchCharacteristic',
                     f'{self.address} has no characteristic {uuid}')


class LeState:
    def __init__(self, root):
        self.root = root
        self.devices = {}        # address -> Device
        self.records = []
        self.filters = {}        # adapter path -> dict
        self.scan_timers = {}    # adapter path -> GLib source id
        self.advertise_interval_ms = 200
        # The namespace of ExecPython() and of hooks: protocol emulators a
        # test loads live here.
        self.ns = {'dbus': dbus, 'GLib': GLib, 'time': time, 'json': json, 'mock': self}
        self.ns['notify'] = self.notify
        self.ns['set_value'] = self.set_value
        self.ns['drop_link'] = lambda address: self.disconnect(self.device(address), 'dropped')
        self.ns['later'] = _later
        self.ns['device'] = self.device
        self.ns['mockobject'] = mockobject

    # --- bookkeeping -----------------------------------------------------

    def record(self, *args, **kwargs):
        rec = Record(*args, **kwargs)
        self.records.append(rec)
        return rec

    def event(self, path, what, args=None):
        self.record(path, 'event', what, args).done('ok')

    def device(self, address):
        try:
            return self.devices[address.upper()]
        except KeyError:
            raise _error('org.nursery.BluezMock.NoSuchDevice', f'no device {address}') from None

    def device_of_path(self, path):
        for dev in self.devices.values():
            if path == dev.path or path.startswith(dev.path + '/'):
                return dev
        raise _error('org.freedesktop.DBus.Error.UnknownObject', f'no object {path}')

    def set_props(self, path, interface, changes):
        '''Sets properties (adding missing ones) and emits PropertiesChanged.'''
        obj = mockobject.objects[path]
        props = obj.props.setdefault(interface, {})
        for name, value in changes.items():
            props[name] = value
        obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                       [interface, dbus.Dictionary(changes, signature='sv'),
                        dbus.Array([], signature='s')])

    def emit_added(self, path, interfaces):
        self.root.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                             [dbus.ObjectPath(path),
                              dbus.Dictionary(interfaces, signature='sa{sv}')])

    def emit_removed(self, path, interfaces):
        self.root.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesRemoved', 'oas',
                             [dbus.ObjectPath(path), dbus.Array(interfaces, signature='s')])

    # --- devices -----------------------------------------------------------

    def device_props(self, dev, sighted):
        props = {
            'Address': dbus.String(dev.address),
            'AddressType': dbus.String(dev.address_type),
            'Alias': dbus.String(dev.name or dev.address.replace(':', '-')),
            'Adapter': dbus.ObjectPath(f'/org/bluez/{dev.adapter}'),
            'Paired': dbus.Boolean(False),
            'Trusted': dbus.Boolean(False),
            'Blocked': dbus.Boolean(False),
            'Connected': dbus.Boolean(dev.start_connected),
            'ServicesResolved': dbus.Boolean(dev.start_connected),
            'UUIDs': dbus.Array(dev.uuids, signature='s'),
            'ManufacturerData': dbus.Dictionary(
                {dbus.UInt16(k): _bytes(v) for k, v in dev.manufacturer.items()},
                signature='qv'),
        }
        if dev.name:
            props['Name'] = dbus.String(dev.name)
        if sighted:
            props['RSSI'] = dbus.Int16(dev.rssi)
        return props

    def export_device(self, dev, sighted):
        if dev.exported:
            return
        props = self.device_props(dev, sighted)
        self.root.AddObject(dev.path, DEVICE_IFACE, props, [])
        obj = mockobject.objects[dev.path]
        methods = _device_methods()
        for name, (in_sig, out_sig, fn) in methods.items():
            obj.methods.setdefault(DEVICE_IFACE, {})[name] = (in_sig, out_sig, '', fn)
        interfaces = {DEVICE_IFACE: props}
        if dev.battery is not None:
            obj.props[BATTERY_IFACE] = {'Percentage': dbus.Byte(dev.battery)}
            interfaces[BATTERY_IFACE] = obj.props[BATTERY_IFACE]
        dev.exported = True
        self.emit_added(dev.path, interfaces)
        for service in dev.services:
            self.export_service(dev, service)

    def unexport_device(self, dev):
        if not dev.exported:
            return
        for service in reversed(dev.services):
            for ch in reversed(service.characteristics):
                self.root.RemoveObject(ch.path)
                self.emit_removed(ch.path, [CHAR_IFACE])
            self.root.RemoveObject(service.path)
            self.emit_removed(service.path, [SERVICE_IFACE])
        interfaces = list(mockobject.objects[dev.path].props.keys())
        self.root.RemoveObject(dev.path)
        dev.exported = False
        self.emit_removed(dev.path, interfaces)

    def export_service(self, dev, service):
        index = dev.services.index(service)
        service.path = f'{dev.path}/service{0x10 * (index + 1):04x}'
        props = {
            'UUID': dbus.String(service.uuid),
            'Device': dbus.ObjectPath(dev.path),
            'Primary': dbus.Boolean(True),
            'Includes': dbus.Array([], signature='o'),
            'Handle': dbus.UInt16(0x10 * (index + 1)),
        }
        self.root.AddObject(service.path, SERVICE_IFACE, props, [])
        self.emit_added(service.path, {SERVICE_IFACE: props})
        for ch in service.characteristics:
            self.export_characteristic(service, ch)

    def export_characteristic(self, service, ch):
        index = service.characteristics.index(ch)
        handle = int(service.path[-4:], 16) + 1 + 2 * index
        ch.path = f'{service.path}/char{handle:04x}'
        props = {
            'UUID': dbus.String(ch.uuid),
            'Service': dbus.ObjectPath(service.path),
            'Value': _bytes(ch.value),
            'Notifying': dbus.Boolean(False),
            'Flags': dbus.Array(ch.flags, signature='s'),
            'Handle': dbus.UInt16(handle),
            'MTU': dbus.UInt16(247),
        }
        self.root.AddObject(ch.path, CHAR_IFACE, props, [])
        obj = mockobject.objects[ch.path]
        for name, (in_sig, out_sig, fn) in _characteristic_methods().items():
            obj.methods.setdefault(CHAR_IFACE, {})[name] = (in_sig, out_sig, '', fn)
        self.emit_added(ch.path, {CHAR_IFACE: props})

    def connected(self, dev):
        return dev.exported and bool(mockobject.objects[dev.path].props[DEVICE_IFACE]['Connected'])

    def disconnect(self, dev, why):
        if not dev.exported:
            return
        for service in dev.services:
            for ch in service.characteristics:
                if mockobject.objects[ch.path].props[CHAR_IFACE]['Notifying']:
                    self.set_props(ch.path, CHAR_IFACE, {'Notifying': dbus.Boolean(False)})
        props = mockobject.objects[dev.path].props[DEVICE_IFACE]
        if props['ServicesResolved']:
            self.set_props(dev.path, DEVICE_IFACE, {'ServicesResolved': dbus.Boolean(False)})
        if props['Connected']:
            self.set_props(dev.path, DEVICE_IFACE, {'Connected': dbus.Boolean(False)})
            self.event(dev.path, 'Disconnected', why)

    # --- discovery ---------------------------------------------------------

    def matches_filter(self, adapter_path, dev):
        flt = self.filters.get(adapter_path, {})
        if str(flt.get('Transport', 'auto')) == 'bredr':
            return False
        wanted = [str(u).lower() for u in flt.get('UUIDs', [])]
        return not wanted or any(u in wanted for u in dev.uuids)

    def advertise(self, adapter_path):
        adapter = mockobject.objects.get(adapter_path)
        if adapter is None or not adapter.props[ADAPTER_IFACE]['Discovering']:
            self.scan_timers.pop(adapter_path, None)
            return False
        for dev in list(self.devices.values()):
            if f'/org/bluez/{dev.adapter}' != adapter_path or not dev.advertising:
                continue
            if not self.matches_filter(adapter_path, dev):
                continue
            if not dev.exported:
                self.export_device(dev, sighted=True)
            elif not self.connected(dev):
                self.set_props(dev.path, DEVICE_IFACE, {'RSSI': dbus.Int16(dev.rssi)})
        return True

    # --- notifications -------------------------------------------------------

    def notify(self, address, uuid, data, delay_ms=0):
        '''Sends a notification of `data` on a characteristic, if it is notifying.'''
        def send():
            dev = self.device(address)
            ch = dev.characteristic(uuid)
            if not dev.exported or not self.connected(dev):
                self.event(ch.path, 'NotificationDropped', 'not connected')
                return
            obj = mockobject.objects[ch.path]
            if not obj.props[CHAR_IFACE]['Notifying']:
                self.event(ch.path, 'NotificationDropped', 'not notifying')
                return
            ch.value = bytes(data)
            self.set_props(ch.path, CHAR_IFACE, {'Value': _bytes(data)})
            self.event(ch.path, 'Notified', list(bytes(data)))
        _later(delay_ms, send)

    def set_value(self, address, uuid, data):
        '''The value a read returns (without notifying).'''
        self.device(address).characteristic(uuid).value = bytes(data)


def _le():
    return mockobject.objects['/'].nursery_le


# --- Device1 --------------------------------------------------------------------


def _device_methods():
    @dbus.service.method(DEVICE_IFACE, in_signature='', out_signature='',
                         async_callbacks=('ok', 'err'))
    def Connect(self, ok, err):
        le = _le()
        dev = le.device_of_path(self.path)
        rec = le.record(self.path, DEVICE_IFACE, 'Connect')

        def reply_error(name, message):
            rec.done('error:' + name)
            err(_error(name, message))

        if dev.connect_silent:
            dev.pending_connects.append((rec, err))
            return
        if dev.connect_failures and dev.connect_failures[2] > 0:
            name, message, _ = dev.connect_failures
            dev.connect_failures[2] -= 1
            if message == 'le-connection-abort-by-local':
                # The link comes up and the controller tears it down: BlueZ
                # reports Connected, fails the call, then reports the
                # disconnection a little later.
                le.set_props(dev.path, DEVICE_IFACE, {'Connected': dbus.Boolean(True)})
                _later(dev.connect_delay_ms, lambda: reply_error(name, message))
                _later(dev.connect_delay_ms + dev.abort_disconnect_delay_ms,
                       lambda: le.disconnect(dev, 'aborted'))
            else:
                _later(dev.connect_delay_ms, lambda: reply_error(name, message))
            return
        if le.connected(dev):
            reply_error('org.bluez.Error.AlreadyConnected', 'Already Connected')
            return

        def resolve():
            if le.connected(dev):
                le.set_props(dev.path, DEVICE_IFACE, {'ServicesResolved': dbus.Boolean(True)})

        def up():
            if not dev.exported:
                reply_error('org.bluez.Error.Failed', 'le-connection-abort-by-local')
                return
            le.set_props(dev.path, DEVICE_IFACE, {'Connected': dbus.Boolean(True)})
            rec.done('ok')
            ok()
            _later(dev.resolve_delay_ms, resolve)
        _later(dev.connect_delay_ms, up)

    @dbus.service.method(DEVICE_IFACE, in_signature='', out_signature='',
                         async_callbacks=('ok', 'err'))
    def Disconnect(self, ok, err):
        le = _le()
        dev = le.device_of_path(self.path)
        rec = le.record(self.path, DEVICE_IFACE, 'Disconnect')
        # Disconnect also cancels a pending Connect.
        for pending, pending_err in dev.pending_connects:
            pending.done('error:org.bluez.Error.Failed')
            pending_err(_error('org.bluez.Error.Failed', 'Operation was cancelled'))
        dev.pending_connects = []
        if not le.connected(dev):
            rec.done('error:org.bluez.Error.NotConnected')
            err(_error('org.bluez.Error.NotConnected', 'Not Connected'))
            return
        le.disconnect(dev, 'Disconnect')
        rec.done('ok')
        ok()

    return {'Connect': ('', '', Connect), 'Disconnect': ('', '', Disconnect)}


# --- GattCharacteristic1 ----------------------------------------------------------


def _gatt_call(obj, method, value, options, ok, err):
    le = _le()
    dev = le.device_of_path(obj.path)
    uuid = str(obj.props[CHAR_IFACE]['UUID'])
    ch = dev.characteristic(uuid)
    rec = le.record(obj.path, CHAR_IFACE, method, options, value or b'')
    after_reply = []

    def fail(name, message):
        rec.done('error:' + name)
        err(_error(name, message))

    def succeed(*result):
        rec.done('ok')
        ok(*result)
        for fn in after_reply:
            fn()

    if not le.connected(dev):
        # What src/gatt-client.c answers, not what the API document says.
        fail('org.bluez.Error.Failed', 'Not connected')
        return
    if dev.gatt_silent:
        return  # never answered: the caller's timeout must fire
    failure = ch.failures.get(method)
    if failure and failure[2] > 0:
        failure[2] -= 1
        _later(ch.reply_delay_ms, lambda: fail(failure[0], failure[1]))
        return

    if method == 'StartNotify':
        if not obj.props[CHAR_IFACE]['Notifying']:
            le.set_props(obj.path, CHAR_IFACE, {'Notifying': dbus.Boolean(True)})
        _later(ch.reply_delay_ms, succeed)
        return
    if method == 'StopNotify':
        if obj.props[CHAR_IFACE]['Notifying']:
            le.set_props(obj.path, CHAR_IFACE, {'Notifying': dbus.Boolean(False)})
        _later(ch.reply_delay_ms, succeed)
        return

    scope = {'address': dev.address, 'uuid': ch.uuid, 'options': _plain(options),
             'value': bytes(value or b'')}

    def hook_notify(uuid_, data, delay_ms=0):
        after_reply.append(lambda: le.notify(dev.address, uuid_, data, delay_ms))
    scope['notify'] = hook_notify
    hook = ch.read_hook if method == 'ReadValue' else ch.write_hook
    if hook:
        try:
            exec(hook, le.ns, scope)  # pylint: disable=exec-used
        except dbus.exceptions.DBusException as e:
            _later(ch.reply_delay_ms, lambda: fail(e.get_dbus_name(), e.get_dbus_message()))
            return
    if method == 'ReadValue':
        result = bytes(scope['ret']) if 'ret' in scope else ch.value
        _later(ch.reply_delay_ms, lambda: succeed(_bytes(result)))
    else:
        _later(ch.reply_delay_ms, succeed)


def _characteristic_methods():
    @dbus.service.method(CHAR_IFACE, in_signature='a{sv}', out_signature='ay',
                         async_callbacks=('ok', 'err'))
    def ReadValue(self, options, ok, err):
        _gatt_call(self, 'ReadValue', None, options, ok, err)

    @dbus.service.method(CHAR_IFACE, in_signature='aya{sv}', out_signature='',
                         async_callbacks=('ok', 'err'))
    def WriteValue(self, value, options, ok, err):
        _gatt_call(self, 'WriteValue', bytes(value), options, ok, err)

    @dbus.service.method(CHAR_IFACE, in_signature='', out_signature='',
                         async_callbacks=('ok', 'err'))
    def StartNotify(self, ok, err):
        _gatt_call(self, 'StartNotify', None, None, ok, err)

    @dbus.service.method(CHAR_IFACE, in_signature='', out_signature='',
                         async_callbacks=('ok', 'err'))
    def StopNotify(self, ok, err):
        _gatt_call(self, 'StopNotify', None, None, ok, err)

    return {'ReadValue': ('a{sv}', 'ay', ReadValue), 'WriteValue': ('aya{sv}', '', WriteValue),
            'StartNotify': ('', '', StartNotify), 'StopNotify': ('', '', StopNotify)}


# --- Adapter1 discovery -------------------------------------------------------------


def _start_discovery(adapter):
    le = _le()
    rec = le.record(adapter.path, ADAPTER_IFACE, 'StartDiscovery')
    props = adapter.props[ADAPTER_IFACE]
    if props['Discovering']:
        rec.done('error:org.bluez.Error.InProgress')
        raise _error('org.bluez.Error.InProgress', 'Operation already in progress')
    le.set_props(adapter.path, ADAPTER_IFACE, {'Discovering': dbus.Boolean(True)})
    rec.done('ok')
    path = adapter.path
    _later(50, lambda: le.advertise(path))
    le.scan_timers[path] = GLib.timeout_add(le.advertise_interval_ms, lambda: le.advertise(path))


def _stop_discovery(adapter):
    le = _le()
    rec = le.record(adapter.path, ADAPTER_IFACE, 'StopDiscovery')
    if not adapter.props[ADAPTER_IFACE]['Discovering']:
        rec.done('error:org.bluez.Error.Failed')
        raise _error('org.bluez.Error.Failed', 'No discovery started')
    source = le.scan_timers.pop(adapter.path, None)
    if source is not None:
        GLib.source_remove(source)
    le.set_props(adapter.path, ADAPTER_IFACE, {'Discovering': dbus.Boolean(False)})
    rec.done('ok')


def _set_discovery_filter(adapter, discovery_filter):
    le = _le()
    le.record(adapter.path, ADAPTER_IFACE, 'SetDiscoveryFilter', discovery_filter).done('ok')
    le.filters[adapter.path] = {str(k): _plain(v) for k, v in discovery_filter.items()}


# --- org.nursery.BluezMock on the root object -------------------------------------------


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='o')
def AddLeAdapter(self, name):
    '''An adapter whose discovery finds this mock's advertisers.'''
    path = bluez5.AddAdapter(self, name, 'nursery-test')
    adapter = mockobject.objects[path]
    adapter.AddMethod(ADAPTER_IFACE, 'StartDiscovery', '', '', _start_discovery)
    adapter.AddMethod(ADAPTER_IFACE, 'StopDiscovery', '', '', _stop_discovery)
    adapter.AddMethod(ADAPTER_IFACE, 'SetDiscoveryFilter', 'a{sv}', '', _set_discovery_filter)
    return dbus.ObjectPath(path)


@dbus.service.method(MOCK_IFACE, in_signature='sssa{sv}', out_signature='o')
def AddLeDevice(self, adapter, address, name, options):
    '''An LE peripheral. options: known (b, default true: BlueZ has it now;
    false: it appears when a scan sees it), advertising (b, default true),
    connected (b: already connected and resolved, as a crash leaves it),
    rssi (n), uuids (as), manufacturer (a{qv} of ay), address_type (s).'''
    le = self.nursery_le
    if f'/org/bluez/{adapter}' not in mockobject.objects:
        raise _error('org.nursery.BluezMock.NoSuchAdapter', f'no adapter {adapter}')
    if address.upper() in le.devices:
        raise _error('org.nursery.BluezMock.Exists', f'{address} exists')
    dev = Device(adapter, address, name, options)
    le.devices[dev.address] = dev
    if bool(options.get('known', True)):
        le.export_device(dev, sighted=False)
    return dbus.ObjectPath(dev.path)


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='o')
def AddGattService(self, address, uuid):
    le = self.nursery_le
    dev = le.device(address)
    service = Service(uuid)
    dev.services.append(service)
    if dev.exported:
        le.export_service(dev, service)
    return dbus.ObjectPath(service.path or dev.path)


@dbus.service.method(MOCK_IFACE, in_signature='sssasay', out_signature='o')
def AddGattCharacteristic(self, address, service_uuid, uuid, flags, value):
    le = self.nursery_le
    dev = le.device(address)
    for service in dev.services:
        if service.uuid == service_uuid.lower():
            ch = Characteristic(uuid, flags, value)
            service.characteristics.append(ch)
            if dev.exported:
                le.export_characteristic(service, ch)
            return dbus.ObjectPath(ch.path or dev.path)
    raise _error('org.nursery.BluezMock.NoSuchService', f'{address} has no service {service_uuid}')


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def RemoveLeDevice(self, address):
    '''BlueZ forgets the device (InterfacesRemoved for it and its GATT
    objects); it still advertises, so a scan finds it again.'''
    le = self.nursery_le
    dev = le.device(address)
    le.disconnect(dev, 'removed')
    le.unexport_device(dev)


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def RestoreLeDevice(self, address):
    '''BlueZ knows the device again, as added (without a scan).'''
    le = self.nursery_le
    le.export_device(le.device(address), sighted=False)


@dbus.service.method(MOCK_IFACE, in_signature='sa{sv}', out_signature='')
def SetDeviceBehaviour(self, address, behaviour):
    '''connect_delay_ms, resolve_delay_ms, abort_disconnect_delay_ms (u);
    connect_silent (b: Connect never answers); gatt_silent (b: GATT calls
    never answer); advertising (b); rssi (n).'''
    dev = self.nursery_le.device(address)
    for key, value in behaviour.items():
        key = str(key)
        if key in ('connect_delay_ms', 'resolve_delay_ms', 'abort_disconnect_delay_ms', 'rssi'):
            setattr(dev, key, int(value))
        elif key in ('connect_silent', 'gatt_silent', 'advertising'):
            setattr(dev, key, bool(value))
        else:
            raise _error('org.nursery.BluezMock.BadBehaviour', f'unknown behaviour {key}')


@dbus.service.method(MOCK_IFACE, in_signature='sssi', out_signature='')
def FailConnect(self, address, name, message, count):
    '''The next `count` Connect calls fail with D-Bus error `name`/`message`.'''
    self.nursery_le.device(address).connect_failures = [str(name), str(message), int(count)]


@dbus.service.method(MOCK_IFACE, in_signature='sssssi', out_signature='')
def FailGatt(self, address, uuid, method, name, message, count):
    '''The next `count` calls of `method` (ReadValue, WriteValue,
    StartNotify) on the characteristic fail with `name`/`message`.'''
    ch = self.nursery_le.device(address).characteristic(uuid)
    ch.failures[str(method)] = [str(name), str(message), int(count)]


@dbus.service.method(MOCK_IFACE, in_signature='ssu', out_signature='')
def SetGattReplyDelay(self, address, uuid, delay_ms):
    self.nursery_le.device(address).characteristic(uuid).reply_delay_ms = int(delay_ms)


@dbus.service.method(MOCK_IFACE, in_signature='sss', out_signature='')
def SetWriteHook(self, address, uuid, code):
    '''Python run on every WriteValue of the characteristic, before the
    reply. In scope: value (bytes), options (dict), address, uuid,
    notify(uuid, data, delay_ms=0) (sent after the reply), everything
    ExecPython() defined, and the helpers notify/set_value/drop_link/device
    of the namespace (module-level names: `mock.notify(...)` etc.). Raising
    dbus.exceptions.DBusException fails the write with that error.'''
    self.nursery_le.device(address).characteristic(uuid).write_hook = str(code)


@dbus.service.method(MOCK_IFACE, in_signature='sss', out_signature='')
def SetReadHook(self, address, uuid, code):
    '''Python run on every ReadValue; assigning `ret` (bytes) sets the value read.'''
    self.nursery_le.device(address).characteristic(uuid).read_hook = str(code)


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def ExecPython(self, code):
    '''Runs python in the namespace hooks see (define emulators here).'''
    exec(str(code), self.nursery_le.ns)  # pylint: disable=exec-used


@dbus.service.method(MOCK_IFACE, in_signature='ssayu', out_signature='')
def Notify(self, address, uuid, data, delay_ms):
    self.nursery_le.notify(address, uuid, bytes(data), int(delay_ms))


@dbus.service.method(MOCK_IFACE, in_signature='ssay', out_signature='')
def SetValue(self, address, uuid, data):
    self.nursery_le.set_value(address, uuid, bytes(data))


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def DropLink(self, address):
    '''The peripheral goes out of range: Connected becomes false.'''
    le = self.nursery_le
    le.disconnect(le.device(address), 'dropped')


@dbus.service.method(MOCK_IFACE, in_signature='sy', out_signature='')
def SetBattery(self, address, percent):
    le = self.nursery_le
    dev = le.device(address)
    dev.battery = int(percent)
    if not dev.exported:
        return
    obj = mockobject.objects[dev.path]
    if BATTERY_IFACE in obj.props:
        le.set_props(dev.path, BATTERY_IFACE, {'Percentage': dbus.Byte(dev.battery)})
    else:
        obj.props[BATTERY_IFACE] = {'Percentage': dbus.Byte(dev.battery)}
        le.emit_added(dev.path, {BATTERY_IFACE: obj.props[BATTERY_IFACE]})


@dbus.service.method(MOCK_IFACE, in_signature='u', out_signature='')
def SetAdvertiseInterval(self, interval_ms):
    self.nursery_le.advertise_interval_ms = max(10, int(interval_ms))


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(dssssayds)')
def GetRecords(self):
    return dbus.Array([r.as_struct() for r in self.nursery_le.records], signature='(dssssayds)')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ClearRecords(self):
    self.nursery_le.records = []


def load(mock, _parameters):
    mock.nursery_le = LeState(mock)
