#pragma once
// The two BLE devices the drivers speak to, emulated inside the BlueZ mock
// (python run by bluez_le.py): a massager with the gatt-massager default
// profile, and a Hatch Rest (1st gen). Both answer every write, notify their
// state after it, and keep their state in `devices[address]` in the mock's
// namespace, so a test can press a button on them (exec_python) or read
// what they have.
//
//   add_massager(mock, "F3:53:11:AA:BB:01");
//   add_hatch_rest(mock, "F3:53:11:AA:BB:02");
//
// The Hatch Rest answers "OK" on its RX characteristic `ack_delay_ms` after
// the write's own reply, then notifies its 20-byte state; it forgets colour,
// track and volume when switched off, as the real one does. A command it
// does not know is answered "E01". The massager runs its own session timer
// (opcode 4) in the mock's time, switching itself off when it runs out.

#include <string>

#include "tests/ble/bluez_mock.hpp"

namespace nursery::bletest {

inline constexpr const char* kNusService = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
inline constexpr const char* kNusWrite = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
inline constexpr const char* kNusNotify = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";
inline constexpr const char* kRestService = "02240001-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr const char* kRestTx = "02240002-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr const char* kRestRx = "02240003-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr const char* kRestAdvertising = "02260001-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr const char* kRestFeedback = "02260002-5efd-47eb-9c1a-de53f7a2b232";

inline constexpr const char* kEmulators = R"PY(
devices = {}

def massager_state(s):
    return bytes([s['on'], s['intensity'], s['pattern']])

def massager_write(address, value, notify):
    s = devices.setdefault(address, {'on': 0, 'intensity': 0, 'pattern': 1, 'session': 0,
                                     'timer': None})
    v = bytes(value)
    if len(v) >= 2 and v[0] == 1:
        s['on'] = v[1]
        if v[1] == 0 and s['timer']:
            GLib.source_remove(s['timer'])
            s['timer'] = None
    elif len(v) >= 2 and v[0] == 2:
        s['intensity'] = v[1]
    elif len(v) >= 2 and v[0] == 3:
        s['pattern'] = v[1]
    elif len(v) >= 3 and v[0] == 4:
        s['session'] = (v[1] << 8) | v[2]
        if s['timer']:
            GLib.source_remove(s['timer'])
        def ends(address=address, s=s):
            s['timer'] = None
            s['on'] = 0
            s['ended_by_timer'] = True
            mock.notify(address, ')PY"
                                          "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
                                          R"PY(', massager_state(s))
            return False
        s['timer'] = GLib.timeout_add(s['session'] * 1000, ends)
    notify(')PY"
                                          "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
                                          R"PY(', massager_state(s))

def massager_read(address):
    s = devices.setdefault(address, {'on': 0, 'intensity': 0, 'pattern': 1, 'session': 0,
                                     'timer': None})
    return massager_state(s)

def rest_state(s):
    return (b'T' + bytes([0, 0, 0, 0]) + b'C' + bytes(s['color']) + bytes([s['brightness']]) +
            b'S' + bytes([s['track'], s['volume']]) + b'P' + bytes([0x00 if s['power'] else 0xc0]) +
            b'e' + bytes([0x80 if s['timer'] else 0, 0, 0, 0]))

def rest(address):
    return devices.setdefault(address, {'power': False, 'color': [0, 0, 0], 'brightness': 0,
                                        'track': 0, 'volume': 0, 'timer': 0, 'clock': None,
                                        'power_on_with': None, 'ack_delay_ms': 30})

def rest_write(address, value, notify):
    s = rest(address)
    try:
        text = bytes(value).decode('ascii')
    except UnicodeDecodeError:
        text = ''
    ok = True
    if text == 'SI01':
        s['power'] = True
        s['power_on_with'] = {'color': list(s['color']), 'brightness': s['brightness'],
                              'track': s['track'], 'volume': s['volume']}
    elif text == 'SI00':
        s['power'] = False
        s['color'], s['brightness'], s['track'], s['volume'] = [0, 0, 0], 0, 0, 0
    elif text.startswith('SC') and len(text) == 10:
        b = bytes.fromhex(text[2:])
        s['color'], s['brightness'] = list(b[0:3]), b[3]
    elif text.startswith('SN') and len(text) == 4:
        s['track'] = int(text[2:], 16)
    elif text.startswith('SV') and len(text) == 4:
        s['volume'] = int(text[2:], 16)
    elif text.startswith('SD') and len(text) == 6:
        s['timer'] = int(text[2:], 16)
    elif text.startswith('ST') and text.endswith('U') and len(text) == 17:
        s['clock'] = text[2:16]
    else:
        ok = False
    notify(')PY"
                                          "02240003-5efd-47eb-9c1a-de53f7a2b232"
                                          R"PY(', b'OK' if ok else b'E01',
           s['ack_delay_ms'])
    if ok:
        notify(')PY"
                                          "02260002-5efd-47eb-9c1a-de53f7a2b232"
                                          R"PY(', rest_state(s),
               s['ack_delay_ms'] + 10)
)PY";

// Defines the emulators in the mock (once per mock start; restart_bluez
// replays it).
inline void define_emulators(BluezMock& mock) { mock.exec_python(kEmulators); }

inline DeviceSpec massager_spec(const std::string& address) {
  DeviceSpec spec;
  spec.address = address;
  spec.name = "Soothe massager";
  spec.advertised_uuids = {kNusService};
  spec.services = {ServiceSpec{kNusService,
                               {CharacteristicSpec{kNusWrite, {"write"}, {}},
                                CharacteristicSpec{kNusNotify, {"read", "notify"}, {0, 0, 1}}}}};
  return spec;
}

inline DeviceSpec hatch_rest_spec(const std::string& address) {
  DeviceSpec spec;
  spec.address = address;
  spec.name = "Hatch Rest";
  spec.advertised_uuids = {kRestAdvertising};
  spec.manufacturer_data = {{1076, {'r'}}};
  spec.services = {
      ServiceSpec{kRestService,
                  {CharacteristicSpec{kRestTx, {"write"}, {}},
                   CharacteristicSpec{kRestRx, {"read", "notify"}, {}}}},
      ServiceSpec{kRestAdvertising, {CharacteristicSpec{kRestFeedback, {"read", "notify"}, {}}}}};
  return spec;
}

// Adds the device with the emulator's hooks; the emulators must be defined.
inline void add_emulated(BluezMock& mock, DeviceSpec spec, bool known, const char* write_uuid,
                         const std::string& write_hook, const char* read_uuid,
                         const std::string& read_hook) {
  spec.known = known;
  const std::string address = spec.address;
  mock.add_device(spec);
  mock.on_write(address, write_uuid, write_hook);
  mock.on_read(address, read_uuid, read_hook);
}

inline void add_massager(BluezMock& mock, const std::string& address, bool known = true) {
  add_emulated(mock, massager_spec(address), known, kNusWrite,
               "massager_write(address, value, notify)", kNusNotify,
               "ret = massager_read(address)");
}

inline void add_hatch_rest(BluezMock& mock, const std::string& address, bool known = true) {
  add_emulated(mock, hatch_rest_spec(address), known, kRestTx, "rest_write(address, value, notify)",
               kRestFeedback, "ret = rest_state(rest(address))");
}

}  // namespace nursery::bletest
