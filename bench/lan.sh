# A private LAN inside a network namespace of its own (`unshare -n`): loopback and two veth ends,
# 10.99.0.1 and 10.99.0.2, with a multicast route (mDNS). Nothing in it reaches any other network.
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.99.0.1/24 dev v0
ip addr add 10.99.0.2/24 dev v1
ip link set v0 up
ip link set v1 up
ip route add 224.0.0.0/4 dev v0
