# The load for bench/callgrind/run.sh: N POSTs of the bench's find or create body from C
# kept-alive connections (threads), each answer read; any status >= 300 is reported.
# usage: load.py PORT PATH N C
import http.client, json, sys, threading
port=int(sys.argv[1]); path=sys.argv[2]; n=int(sys.argv[3]); c=int(sys.argv[4])
loc={"name":"bench","type":"Bench","properties":{"k":"v"}}
if 'find' in path:
    body={"template":"tosca_definitions_version: tosca_simple_yaml_1_0","templateType":"TOSCA","instanceName":"vm-1","deploymentLocation":loc}
else:
    body={"template":"0","templateType":"TOSCA","inputs":{"a":"b"},"deploymentLocation":loc}
data=json.dumps(body).encode()
def run(k):
    conn=http.client.HTTPConnection("127.0.0.1",port)
    for i in range(k):
        conn.request("POST",path,body=data,headers={"Content-Type":"application/json"})
        r=conn.getresponse(); r.read()
        if r.status>=300: print("status",r.status,file=sys.stderr)
ts=[threading.Thread(target=run,args=(n//c,)) for _ in range(c)]
[t.start() for t in ts]; [t.join() for t in ts]
